/**
 * @module registry/agent-factory
 * The contract between the registry and the code that builds agents. A factory is a module's exported
 * function; the registry stores where it lives and calls it to recreate the agent after every restart.
 */
import type { BaseAgent, BaseLlm } from '@google/adk';

/** What the host gives every factory besides the record's `factory_params`. */
export interface AgentFactoryContext {
  /**
   * The model agents should run on: a Gemini model when `GOOGLE_API_KEY` is set, otherwise the
   * offline deterministic model. Factories use it unless their params ask for something else.
   */
  readonly model: BaseLlm | string;
}

/** Parameters stored in the record's `factory_params` (JSON values only). */
export type FactoryParams = Readonly<Record<string, unknown>>;

/**
 * A factory returns a Google ADK agent. It may be async. It must not have side effects beyond building
 * the agent: the registry calls it at registration, at every start-up and in every orchestrator replica.
 */
export type AgentFactory = (
  params: FactoryParams,
  context: AgentFactoryContext,
) => BaseAgent | Promise<BaseAgent>;
