/**
 * @module is-main-module
 * Whether a module is the program Node.js was started with, so an entry file can also be imported (by
 * tests) without running.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** Pass `import.meta.url`; true when that module is `process.argv[1]` (symlinks resolved). */
export function isMainModule(moduleUrl: string): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return moduleUrl === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
}
