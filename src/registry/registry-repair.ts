/**
 * @module registry/registry-repair
 * `agent-registry repair`: what start-up set aside (unusable files moved to `.corrupt-*`, the files whose bad
 * records were set aside kept as `.rejected-*`), record by record, and the restore of the valid ones.
 * Planning reads only; applying holds the data-directory lock, so it never races a running service.
 */
import path from 'node:path';
import { type AgentRecord, REGISTRY_FORMAT_VERSION, type RegistryDocument } from './agent-record.js';
import type { FileStore } from './file-store.js';

/**
 * What repair does with one record: `restore` it (valid, and no agent has its name), nothing because the
 * registry holds the same record (`present`) or another one by that name (`conflict`: the registry's wins),
 * nothing because it fails validation (`invalid`), or nothing because a newer copy is restored (`superseded`).
 */
export type RepairAction = 'restore' | 'present' | 'conflict' | 'invalid' | 'superseded';

export interface RepairItem {
  name: string;
  file: string;
  action: RepairAction;
  /** Why it is not restored. */
  reason?: string;
}

export interface RepairFile {
  file: string;
  /** Records found (valid or not); 0 when the file cannot be read as a registry. */
  records: number;
  /** Why nothing could be read from the file. */
  unreadable?: string;
}

export interface RepairPlan {
  files: RepairFile[];
  items: RepairItem[];
  /** The records `restore` items name, ready to be added. */
  restorable: AgentRecord[];
}

/**
 * Plan a repair against the registry as it is now (`current`), from `files` (default: every set-aside file
 * in the data directory). Reads only.
 */
export async function planRepair(
  store: FileStore,
  current: RegistryDocument,
  files?: readonly string[],
): Promise<RepairPlan> {
  const sources = files ?? (await store.setAsideFiles());
  const plan: RepairPlan = { files: [], items: [], restorable: [] };
  const candidates = new Map<string, { record: AgentRecord; item: RepairItem }>();
  for (const file of sources) {
    const read = await store.readRecords(file);
    if ('unreadable' in read) {
      plan.files.push({ file, records: 0, unreadable: read.unreadable });
      continue;
    }
    plan.files.push({ file, records: read.records.length + read.rejected.length });
    for (const rejected of read.rejected) {
      plan.items.push({ name: rejected.name, file, action: 'invalid', reason: rejected.reason });
    }
    for (const record of read.records) {
      const item: RepairItem = { name: record.name, file, action: 'restore' };
      plan.items.push(item);
      const existing = current.agents[record.name];
      if (existing !== undefined) {
        item.action = JSON.stringify(existing) === JSON.stringify(record) ? 'present' : 'conflict';
        if (item.action === 'conflict') {
          item.reason = `the registry holds a different "${record.name}" (updated ${existing.updated_at}); it is kept`;
        }
        continue;
      }
      const earlier = candidates.get(record.name);
      if (earlier === undefined || earlier.record.updated_at < record.updated_at) {
        if (earlier !== undefined) supersede(earlier.item, file);
        candidates.set(record.name, { record, item });
      } else {
        supersede(item, earlier.item.file);
      }
    }
  }
  plan.restorable = [...candidates.values()].map((candidate) => candidate.record);
  return plan;
}

function supersede(item: RepairItem, by: string): void {
  item.action = 'superseded';
  item.reason = `a newer copy in ${path.basename(by)} is restored instead`;
}

/**
 * Restore the valid records: take the lock (refused while a service runs), load the registry as a start
 * would, plan against it, and insert the restorable records (together, so they share one durable save).
 */
export async function applyRepair(store: FileStore, files?: readonly string[]): Promise<RepairPlan> {
  await store.open();
  try {
    const loaded = await store.load();
    const current: RegistryDocument = {
      version: REGISTRY_FORMAT_VERSION,
      last_updated: loaded.last_updated,
      agents: Object.fromEntries(loaded.agents.map((agent) => [agent.record.name, agent.record])),
    };
    const plan = await planRepair(store, current, files);
    await Promise.all(plan.restorable.map((record) => store.insert(record)));
    return plan;
  } finally {
    await store.close();
  }
}

/** The plan as an operator reads it: each file, each record and what happens to it, then what to do. */
export function describePlan(plan: RepairPlan, applied: boolean): string {
  if (plan.files.length === 0) return 'Nothing was set aside: there is nothing to repair.\n';
  const lines = ['Set-aside files:'];
  for (const file of plan.files) {
    lines.push(
      `  ${file.file}: ${file.unreadable ? `unreadable (${file.unreadable})` : `${file.records} record(s)`}`,
    );
  }
  if (plan.items.length > 0) {
    const width = Math.max(4, ...plan.items.map((item) => item.name.length));
    lines.push('', `  ${'NAME'.padEnd(width)}  ${'ACTION'.padEnd(10)}  FROM`);
    for (const item of plan.items) {
      const note = item.reason === undefined ? '' : `  (${item.reason})`;
      lines.push(
        `  ${item.name.padEnd(width)}  ${item.action.padEnd(10)}  ${path.basename(item.file)}${note}`,
      );
    }
  }
  const count = plan.restorable.length;
  lines.push(
    '',
    applied
      ? `Restored ${count} record(s) into the registry; start the service to load them.`
      : count === 0
        ? 'No record can be restored.'
        : `Dry run: ${count} record(s) would be restored. Stop the service, then run "agent-registry repair --apply".`,
  );
  return `${lines.join('\n')}\n`;
}
