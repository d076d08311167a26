/**
 * @module jarvis_agent/mcp_agents/factory-input
 * Checks what the registry hands a factory, so a bad registration fails with a message that says what
 * to fix (the registry shows it to the user as a `factory_failed` error).
 */
import type { BaseLlm } from '@google/adk';
import type { AgentFactoryContext } from '../../src/registry/agent-factory.js';

/**
 * The model from the factory context; throws when the host gave none, or, with `allowedKeys` empty
 * (the demo agents), when `factory_params` has keys this factory would silently ignore.
 */
export function checkFactoryInput(
  factory: string,
  params: unknown,
  context: AgentFactoryContext | undefined,
  allowedKeys: readonly string[] = [],
): BaseLlm | string {
  if (params !== undefined && params !== null && allowedKeys.length === 0) {
    const keys =
      typeof params === 'object' && !Array.isArray(params) ? Object.keys(params) : ['(not an object)'];
    if (keys.length > 0) {
      throw new Error(`${factory} takes no factory_params (use {}), got: ${keys.join(', ')}`);
    }
  }
  const model = context?.model;
  if (model === undefined || model === null || model === '') {
    throw new Error(`${factory} needs the host's model in its context ({ model }); none was given`);
  }
  return model;
}
