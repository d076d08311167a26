/**
 * README.md maps every file the seed names to where it lives here: each file of the seed's "Files Created"
 * lists has a row, and every path the rows point to exists.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './module-graph.js';

/** The seed beside the repository (the CI clone has `../shared` next to it). */
const SEED = path.join(ROOT, '..', 'shared', 'seed', 'AGENT_REGISTRY_PERSISTENCE_TASKS.md');

function mappingRows(readme: string): [string, string][] {
  const start = readme.indexOf("## Where the seed's files live here");
  expect(start, 'README.md has the section "Where the seed\'s files live here"').toBeGreaterThan(-1);
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  return [...section.matchAll(/^\| `([^`]+)` \| (.+) \|$/gm)].map((match) => [match[1]!, match[2]!]);
}

describe("README's map of the seed's files", () => {
  const rows = mappingRows(readFileSync(path.join(ROOT, 'README.md'), 'utf8'));

  it('points only at paths that exist', () => {
    const missing: string[] = [];
    for (const [seedFile, here] of rows) {
      for (const [, span] of here.matchAll(/`([^`]+)`/g)) {
        if (
          !/^(src|test|jarvis_agent|scripts|bench|docs)\/|^[\w.-]+\.(json|ts|yml|md)$|^\.dockerignore$|^Dockerfile$/.test(
            span!,
          )
        ) {
          continue; // commands and DATA_DIR paths
        }
        if (!existsSync(path.join(ROOT, span!))) missing.push(`${span} (for ${seedFile})`);
      }
    }
    expect(rows.length).toBeGreaterThan(25);
    expect(missing).toEqual([]);
  });

  it.skipIf(!existsSync(SEED))("has a row for every file of the seed's Files Created lists", () => {
    const seed = readFileSync(SEED, 'utf8');
    const named = [...seed.matchAll(/^- `([^`]+\.\w+|[^`]*\.dockerignore)`/gm)].map((match) => match[1]!);
    expect(named.length).toBeGreaterThan(25);
    const mapped = new Set(rows.map(([seedFile]) => seedFile));
    expect(named.filter((file) => !mapped.has(file))).toEqual([]);
  });
});
