/**
 * @module jarvis_agent/mcp_agents/agent_factory
 * The factories the registry resolves from `jarvis_agent.mcp_agents.agent_factory` (the seed's module
 * path). Every export here is a factory `(factory_params, context) => agent`; helpers live in sibling files.
 */
import type { LlmAgent } from '@google/adk';
import type { AgentFactoryContext, FactoryParams } from '../../src/registry/agent-factory.js';
import { buildDemoAgent } from './demo-agent.js';
import { checkFactoryInput } from './factory-input.js';
import { buildGenericAgent, parseGenericAgentParams } from './generic-agent.js';

/** IT support tickets agent (`tickets_agent`); takes no params. */
export function create_tickets_agent(params: FactoryParams, context: AgentFactoryContext): LlmAgent {
  return buildDemoAgent('tickets', checkFactoryInput('create_tickets_agent', params, context));
}

/** Cloud cost and budgets agent (`finops_agent`); takes no params. */
export function create_finops_agent(params: FactoryParams, context: AgentFactoryContext): LlmAgent {
  return buildDemoAgent('finops', checkFactoryInput('create_finops_agent', params, context));
}

/** Oxygen learning-platform agent (`oxygen_agent`); takes no params. */
export function create_oxygen_agent(params: FactoryParams, context: AgentFactoryContext): LlmAgent {
  return buildDemoAgent('oxygen', checkFactoryInput('create_oxygen_agent', params, context));
}

/** A tool-less agent from `{name, description, instruction?}`, for bulk registration. */
export function create_generic_agent(params: FactoryParams, context: AgentFactoryContext): LlmAgent {
  const model = checkFactoryInput('create_generic_agent', params, context, [
    'name',
    'description',
    'instruction',
  ]);
  return buildGenericAgent(parseGenericAgentParams(params), model);
}
