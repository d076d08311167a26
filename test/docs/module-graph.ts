/**
 * @module test/docs/module-graph
 * The folder-level import graph of `src/` and `jarvis_agent/`, read from the source: which part imports which
 * (type-only imports included: they couple the parts as much as any other), with one example file per arrow.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The parts of the diagram: every folder of `src/` is one, and so are `jarvis_agent/` and each of its folders; the files
 * directly in `src/` are the composition root, its commands and the package's exports (`main.ts`, `cli.ts`, `move-to-postgres.ts`, `is-main-module.ts`, `index.ts`) and the shared core (config, errors,
 * logger and the small helpers everything uses).
 */
export function partOf(file: string): string | undefined {
  const relative = path.relative(ROOT, file).split(path.sep);
  const [top, second] = relative;
  if (top === 'src') {
    if (relative.length === 2)
      return ['main', 'cli', 'move-to-postgres', 'index', 'is-main-module'].includes(
        (second ?? '').replace(/\.[jt]s$/, ''),
      )
        ? 'src/main'
        : 'src/core';
    return `src/${second}`;
  }
  if (top === 'jarvis_agent') return relative.length > 2 ? `jarvis_agent/${second}` : 'jarvis_agent';
  return undefined;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

const SPECIFIER =
  /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Arrows `from -> to` between different parts, each with one file that makes it. */
export function moduleGraph(): Map<string, string> {
  const edges = new Map<string, string>();
  const files = [...sourceFiles(path.join(ROOT, 'src')), ...sourceFiles(path.join(ROOT, 'jarvis_agent'))];
  for (const file of files) {
    const from = partOf(file);
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(SPECIFIER)) {
      const specifier = match[1] ?? match[2] ?? '';
      if (!specifier.startsWith('.')) continue;
      const to = partOf(path.resolve(path.dirname(file), specifier));
      if (from === undefined || to === undefined || from === to) continue;
      const key = `${from} -> ${to}`;
      if (!edges.has(key)) edges.set(key, `${path.relative(ROOT, file)} imports ${specifier}`);
    }
  }
  return edges;
}
