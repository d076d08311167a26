/**
 * @module sessions/database-quarantine
 * Moves a corrupt SQLite database aside, together with its -wal, -shm and -journal files, so a fresh one
 * can be created without ever deleting what might still be recovered by hand.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync } from 'node:fs';
import path from 'node:path';
import { AppError, messageOf, systemErrorCode } from '../errors.js';

/** Files SQLite may keep next to a database; they belong to it and move with it. */
export const SQLITE_SIDE_FILES = ['-wal', '-shm', '-journal'] as const;

export interface QuarantineReport {
  /** The folder now holding the files: `DATA_DIR/quarantine/<timestamp>/`. */
  folder: string;
  /** Names of the files moved there. */
  files: string[];
  /** What was wrong (the SQLite error or the failing quick_check line). */
  reason: string;
  at: string;
}

/**
 * Move `dbPath` and its side files into a new `quarantine/<timestamp>/` folder next to it.
 * All files move together or the call throws `database_unavailable` (a stale -wal next to a fresh
 * database would be replayed into it). Renames stay on one filesystem, and both directories are
 * fsynced so the move survives a crash.
 */
export function quarantineDatabase(dbPath: string, reason: string, now: Date): QuarantineReport {
  const dataDir = path.dirname(dbPath);
  const root = path.join(dataDir, 'quarantine');
  const stamp = now.toISOString().replaceAll(':', '-');
  let folder = '';
  try {
    mkdirSync(root, { recursive: true });
    folder = makeUniqueFolder(root, stamp);
    const files: string[] = [];
    for (const source of [dbPath, ...SQLITE_SIDE_FILES.map((suffix) => `${dbPath}${suffix}`)]) {
      if (!existsSync(source)) continue;
      renameSync(source, path.join(folder, path.basename(source)));
      files.push(path.basename(source));
    }
    fsyncDirectory(folder);
    fsyncDirectory(dataDir);
    return { folder, files, reason, at: now.toISOString() };
  } catch (error) {
    throw new AppError(
      'database_unavailable',
      `The session database ${dbPath} is corrupt (${reason}) and could not be moved to ${folder || root} ` +
        `(${systemErrorCode(error) ?? messageOf(error)}). Move ${path.basename(dbPath)} and its -wal, -shm and ` +
        '-journal files out of the data directory by hand, then start again.',
      { cause: error },
    );
  }
}

/** `<stamp>`, or `<stamp>-2`, `-3`, ... when two quarantines happen within one millisecond. */
function makeUniqueFolder(root: string, stamp: string): string {
  for (let attempt = 1; ; attempt++) {
    const folder = path.join(root, attempt === 1 ? stamp : `${stamp}-${attempt}`);
    try {
      mkdirSync(folder);
      return folder;
    } catch (error) {
      if (systemErrorCode(error) !== 'EEXIST') throw error;
    }
  }
}

function fsyncDirectory(directory: string): void {
  const fd = openSync(directory, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
