/**
 * @module jarvis_agent/demo-service
 * What the project hands the core service (`src/main.ts`) through its seam: the demo agents, registered on
 * the first start, and the model their factories get (Gemini with `GOOGLE_API_KEY`, else the offline model).
 */
import type { ServiceOptions } from '../src/main.js';
import { DEMO_AGENTS, toRegistration } from './mcp_agents/demo-agents.js';
import { createDefaultModel } from './offline-model/default-model.js';

/** The service options of `npm start`: fresh copies of the demo registrations, the default model. */
export function demoServiceOptions(): Required<Pick<ServiceOptions, 'defaultRegistrations' | 'agentModel'>> {
  return { defaultRegistrations: DEMO_AGENTS.map(toRegistration), agentModel: createDefaultModel };
}
