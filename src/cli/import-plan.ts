/**
 * @module cli/import-plan
 * `agent-registry import`: what a file of agents would change in the registry. The file is the export format
 * (`{"version", "last_updated", "agents": {name: Agent}}`) or a plain array of agents or registrations. An agent
 * not registered yet is registered; a registered one gets its capabilities and enabled state from the file.
 * Nothing is deleted, and what the API cannot change in place (factory, parameters, tags) is reported.
 */
import type { Agent, AgentRegistration } from '../client/registry-client.js';
import { clip, isPlainObject } from './io.js';

/** The registration fields taken from a file entry (the rest of an exported Agent is the service's). */
const REGISTRATION_FIELDS = [
  'agent_type',
  'factory_module',
  'factory_function',
  'factory_params',
  'capabilities',
  'tags',
  'name',
  'enabled',
  'card_url',
] as const;

/** Fields the API sets only at registration: a difference is reported, not applied. */
const FIXED_FIELDS = ['agent_type', 'factory_module', 'factory_function', 'factory_params', 'tags'] as const;

export interface ImportEntry {
  /** The agent's name, when the file gives it (a registration without one is named by the service). */
  name: string | undefined;
  registration: Record<string, unknown>;
}

export type ImportAction =
  | { action: 'register'; name: string | undefined; registration: Record<string, unknown> }
  | {
      action: 'update';
      name: string;
      capabilities?: { before: Record<string, unknown>; after: Record<string, unknown> };
      enabled?: { before: boolean; after: boolean };
      not_applied: string[];
    }
  | { action: 'unchanged'; name: string; not_applied: string[] };

/** The file's entries; throws an Error saying what is wrong with the file's shape. */
export function importEntries(document: unknown): ImportEntry[] {
  let raw: [string | undefined, unknown][];
  if (Array.isArray(document)) {
    raw = document.map((item) => [undefined, item]);
  } else if (isPlainObject(document) && isPlainObject(document.agents)) {
    raw = Object.entries(document.agents);
  } else {
    throw new Error(
      'expected the export format {"version", "last_updated", "agents": {name: agent}} or an array of agents',
    );
  }
  const seen = new Set<string>();
  return raw.map(([key, item], index) => {
    const where = key === undefined ? `entry ${index}` : `agents.${key}`;
    if (!isPlainObject(item)) throw new Error(`${where} is not an object`);
    const registration: Record<string, unknown> = {};
    for (const field of REGISTRATION_FIELDS) if (item[field] !== undefined) registration[field] = item[field];
    if (key !== undefined) {
      if (registration.name !== undefined && registration.name !== key) {
        throw new Error(`${where} has name "${String(registration.name)}": it must match its key`);
      }
      registration.name = key;
    }
    const name = typeof registration.name === 'string' ? registration.name : undefined;
    if (name !== undefined) {
      if (seen.has(name)) throw new Error(`the agent "${name}" appears twice`);
      seen.add(name);
    }
    return { name, registration };
  });
}

/** What importing `entries` into a registry holding `current` would do, in the file's order. */
export function planImport(entries: readonly ImportEntry[], current: readonly Agent[]): ImportAction[] {
  const byName = new Map(current.map((agent) => [agent.name, agent]));
  return entries.map(({ name, registration }): ImportAction => {
    const existing = name === undefined ? undefined : byName.get(name);
    if (name === undefined || existing === undefined) return { action: 'register', name, registration };
    const notApplied = FIXED_FIELDS.filter(
      (field) =>
        registration[field] !== undefined &&
        canonical(registration[field]) !== canonical((existing as Record<string, unknown>)[field]),
    ).map((field) => field as string);
    const capabilities = registration.capabilities as Record<string, unknown> | undefined;
    const enabled = registration.enabled as boolean | undefined;
    const update: ImportAction & { action: 'update' } = { action: 'update', name, not_applied: notApplied };
    if (capabilities !== undefined && canonical(capabilities) !== canonical(existing.capabilities)) {
      update.capabilities = { before: existing.capabilities, after: capabilities };
    }
    if (enabled !== undefined && enabled !== existing.enabled) {
      update.enabled = { before: existing.enabled, after: enabled };
    }
    if (update.capabilities === undefined && update.enabled === undefined) {
      return { action: 'unchanged', name, not_applied: notApplied };
    }
    return update;
  });
}

/** Counts per action, for the summary line. */
export function summarize(actions: readonly ImportAction[]): Record<ImportAction['action'], number> {
  const counts = { register: 0, update: 0, unchanged: 0 };
  for (const action of actions) counts[action.action]++;
  return counts;
}

/** The plan as a diff: `+` registers, `~` updates (with each changed capability), `=` unchanged. */
export function describeImport(actions: readonly ImportAction[]): string {
  const out: string[] = [];
  for (const action of actions) {
    if (action.action === 'register') {
      const label = action.name ?? `(named by the service) ${String(action.registration.factory_function)}`;
      const disabled = action.registration.enabled === false ? ' (disabled)' : '';
      out.push(`+ register ${label}${disabled}`);
      continue;
    }
    if (action.action === 'unchanged') out.push(`= unchanged ${action.name}`);
    else {
      out.push(`~ update ${action.name}`);
      if (action.enabled !== undefined) {
        out.push(`    enabled: ${action.enabled.before} -> ${action.enabled.after}`);
      }
      if (action.capabilities !== undefined) out.push(...capabilityDiff(action.capabilities));
    }
    for (const field of action.not_applied) {
      out.push(`    ! ${field} differs: not applied (set at registration only; rm and import to replace)`);
    }
  }
  return out.length === 0 ? 'The file has no agents.\n' : `${out.join('\n')}\n`;
}

function capabilityDiff({
  before,
  after,
}: {
  before: Record<string, unknown>;
  after: Record<string, unknown>;
}) {
  const lines: string[] = [];
  for (const key of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
    const old = before[key];
    const next = after[key];
    if (canonical(old) === canonical(next)) continue;
    if (old !== undefined) lines.push(`    - capabilities.${key}: ${clip(JSON.stringify(old), 100)}`);
    if (next !== undefined) lines.push(`    + capabilities.${key}: ${clip(JSON.stringify(next), 100)}`);
  }
  return lines;
}

/** JSON with sorted keys: equal values give equal strings. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    isPlainObject(item)
      ? Object.fromEntries(
          Object.keys(item)
            .sort()
            .map((key) => [key, item[key]]),
        )
      : item,
  );
}

export type { AgentRegistration };
