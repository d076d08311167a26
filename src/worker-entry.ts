/**
 * @module worker-entry
 * How to start one of this package's worker threads: the compiled entry next to the calling module under
 * `dist/`; from TypeScript sources (vitest, tsx), a small bootstrap that registers tsx in the worker, then
 * imports the `.ts` entry (on Node 20 a worker does not take tsx from `--import` in its `execArgv`).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * `entry` is the worker module's path relative to `from` (the calling module's `import.meta.url`), without
 * its extension: `./training-worker`.
 */
export function workerEntry(entry: string, from: string): { entry: URL | string; eval: boolean } {
  if (!from.endsWith('.ts')) return { entry: new URL(`${entry}.js`, from), eval: false };
  const require = createRequire(from);
  const manifest = require.resolve('tsx/package.json');
  const { exports } = JSON.parse(readFileSync(manifest, 'utf8')) as {
    exports: Record<string, { import: { default: string } }>;
  };
  const api = pathToFileURL(path.join(path.dirname(manifest), exports['./esm/api']!.import.default)).href;
  const source = new URL(`${entry}.ts`, from).href;
  return {
    entry: `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); });`,
    eval: true,
  };
}
