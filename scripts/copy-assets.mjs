/**
 * Build step after `tsc`: copies the non-TypeScript files the code reads at run time (the session schema)
 * from `src/` into `dist/src/`, keeping their paths.
 */
import { cpSync, readdirSync } from 'node:fs';
import path from 'node:path';

const ASSET = /\.sql$/;
function copy(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const from = path.join(dir, entry.name);
    if (entry.isDirectory()) copy(from);
    else if (ASSET.test(entry.name)) cpSync(from, path.join('dist', from));
  }
}
copy('src');
