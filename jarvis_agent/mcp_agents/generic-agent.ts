/**
 * @module jarvis_agent/mcp_agents/generic-agent
 * A tool-less `LlmAgent` described entirely by its `factory_params` (`{name, description, instruction?}`),
 * for registering many simple agents in bulk. Parameters are checked here so that a bad registration
 * fails with a message naming the field, instead of a stack trace from deep inside ADK.
 */
import { type BaseLlm, LlmAgent } from '@google/adk';

export interface GenericAgentParams {
  readonly name: string;
  readonly description: string;
  readonly instruction?: string;
}

/** ADK's own rule for agent names (`validateAgentName` in `@google/adk` agents/base_agent). */
const ADK_AGENT_NAME = /^[\p{ID_Start}$_][\p{ID_Continue}$_-]*$/u;
const ACCEPTED_KEYS = ['name', 'description', 'instruction'];

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value);
  return `a ${typeof value}`;
}

/**
 * Checks `factory_params` for `create_generic_agent`; throws an `Error` that says which field is wrong
 * and what it accepts.
 */
export function parseGenericAgentParams(params: unknown): GenericAgentParams {
  const where = 'create_generic_agent factory_params';
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw new Error(
      `${where} must be an object {name, description, instruction?}, got ${describeValue(params)}`,
    );
  }
  const record = params as Record<string, unknown>;
  const unknown = Object.keys(record).filter((key) => !ACCEPTED_KEYS.includes(key));
  if (unknown.length > 0) {
    throw new Error(
      `${where} has unknown field(s) ${unknown.join(', ')}; accepted: name, description, instruction`,
    );
  }
  const { name, description, instruction } = record;
  if (typeof name !== 'string' || name === '') {
    throw new Error(
      `${where}.name is required: a non-empty string such as "hr_policy_agent", got ${describeValue(name)}`,
    );
  }
  if (!ADK_AGENT_NAME.test(name)) {
    throw new Error(
      `${where}.name ${JSON.stringify(name)} is not a valid agent name: it must start with a letter or an ` +
        'underscore and contain only letters, digits, underscores and hyphens (no spaces or dots)',
    );
  }
  if (name === 'user')
    throw new Error(`${where}.name cannot be "user": ADK reserves it for the end user's input`);
  if (typeof description !== 'string' || description.trim() === '') {
    throw new Error(
      `${where}.description is required: a non-empty string saying what the agent is for, got ${describeValue(description)}`,
    );
  }
  if (instruction !== undefined && typeof instruction !== 'string') {
    throw new Error(`${where}.instruction must be a string when given, got ${describeValue(instruction)}`);
  }
  return instruction === undefined || instruction.trim() === ''
    ? { name, description: description.trim() }
    : { name, description: description.trim(), instruction };
}

/** A tool-less agent that answers within the scope its description sets. */
export function buildGenericAgent(params: GenericAgentParams, model: BaseLlm | string): LlmAgent {
  const instruction =
    params.instruction ??
    `You are ${params.name}. ${params.description.replace(/[.\s]*$/, '.')} Help within that scope and say ` +
      'plainly when a request is outside it.';
  return new LlmAgent({
    name: params.name,
    description: params.description,
    model,
    // A provider keeps a user-written instruction literal: ADK treats `{...}` in a plain string as state.
    instruction: () => instruction,
  });
}
