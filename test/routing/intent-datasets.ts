/**
 * @module test/routing/intent-datasets
 * Loads the public intent datasets in `../shared/datasets` (BANKING77, HWU64) as (text, intent) pairs, for
 * the router's quality test and benchmark. Each intent becomes one agent.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { humanise, type RoutableAgent } from '../../src/routing/routable-agent.js';

export interface Utterance {
  readonly text: string;
  readonly intent: string;
}

/** The datasets folder beside the repository (the CI clone has `../shared` next to it). */
export const DATASETS_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../shared/datasets',
);

/** RFC 4180 CSV: quoted fields may hold commas, doubled quotes and newlines. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch !== '"') field += ch;
      else if (text[i + 1] === '"') {
        field += '"';
        i++;
      } else quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

export function loadBanking77(split: 'train' | 'test'): Utterance[] {
  const rows = parseCsv(readFileSync(path.join(DATASETS_DIR, 'banking77', `${split}.csv`), 'utf8'));
  return rows.slice(1).flatMap((row) => (row.length === 2 ? [{ text: row[0]!, intent: row[1]! }] : []));
}

export function loadHwu64(split: 'train' | 'test'): Utterance[] {
  const data = JSON.parse(
    readFileSync(path.join(DATASETS_DIR, 'hwu64', 'hwu64_kfold1.json'), 'utf8'),
  ) as Record<string, [string, string][]>;
  return (data[split] ?? []).map(([text, intent]) => ({ text, intent }));
}

export function groupByIntent(utterances: readonly Utterance[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const { text, intent } of utterances) {
    let texts = groups.get(intent);
    if (texts === undefined) {
      texts = [];
      groups.set(intent, texts);
    }
    texts.push(text);
  }
  return groups;
}

/** One agent per intent: the humanised intent name is its description, the utterances its examples. */
export function intentAgent(intent: string, examples: readonly string[]): RoutableAgent {
  return {
    name: intent,
    description: humanise(intent),
    tags: [],
    capabilities: { examples: [...examples] },
    enabled: true,
    available: true,
  };
}
