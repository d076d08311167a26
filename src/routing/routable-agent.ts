/**
 * @module routing/routable-agent
 * What the router needs to know about an agent, and the texts it learns that agent from: each example query
 * is one document, and a profile (name, description, tags, capabilities) is one more, so agents without
 * examples are still routable.
 */

export interface RoutableAgent {
  readonly name: string;
  readonly description: string;
  readonly tags: readonly string[];
  /** Free-form JSON; `examples` (sample queries) is what the router learns from. */
  readonly capabilities: Readonly<Record<string, unknown>>;
  readonly enabled: boolean;
  /** False when the agent's factory failed: it cannot answer, so it is never selected. */
  readonly available: boolean;
}

/** Caps that keep one agent's documents bounded whatever its registration holds. */
const MAX_EXAMPLES = 2000;
const MAX_TEXT_LENGTH = 2000;
const MAX_PROFILE_LENGTH = 8000;

/** The agent's example queries (strings only, trimmed, non-empty). */
export function agentExamples(agent: RoutableAgent): string[] {
  const examples = agent.capabilities.examples;
  if (!Array.isArray(examples)) return [];
  const texts: string[] = [];
  for (const example of examples) {
    if (typeof example !== 'string') continue;
    const text = example.trim().slice(0, MAX_TEXT_LENGTH);
    if (text !== '') texts.push(text);
    if (texts.length === MAX_EXAMPLES) break;
  }
  return texts;
}

/** "create_ticket", "listTickets", "cloud-costs" -> words a query would use. */
export function humanise(identifier: string): string {
  return identifier
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_\-./:]+/g, ' ')
    .trim();
}

/** One text describing the agent from everything but its examples. */
export function agentProfile(agent: RoutableAgent): string {
  const parts = [humanise(agent.name), agent.description, ...agent.tags.map(humanise)];
  for (const [key, value] of Object.entries(agent.capabilities)) {
    if (key === 'examples') continue;
    parts.push(humanise(key));
    collectStrings(value, parts, 0);
  }
  return parts.join('. ').slice(0, MAX_PROFILE_LENGTH);
}

/** Every document the router learns the agent from: the profile first, then each example. */
export function agentDocuments(agent: RoutableAgent): string[] {
  return [agentProfile(agent), ...agentExamples(agent)];
}

function collectStrings(value: unknown, out: string[], depth: number): void {
  if (depth > 4) return;
  if (typeof value === 'string') out.push(humanise(value));
  else if (Array.isArray(value)) for (const item of value) collectStrings(item, out, depth + 1);
  else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      out.push(humanise(key));
      collectStrings(item, out, depth + 1);
    }
  }
}
