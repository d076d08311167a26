/**
 * @module registry/durable-file
 * Crash-safe file replacement. A reader (or a restart after a crash or power loss) sees either the old
 * file or the new one, never a mix, and a replacement that returned has reached the disk.
 *
 * Written by hand on purpose: `write-file-atomic` can report success after a short write on a full disk and
 * never fsyncs the directory, so a rename can be lost on power failure.
 */
import { randomBytes } from 'node:crypto';
import * as nodeFs from 'node:fs/promises';
import path from 'node:path';
import { systemErrorCode } from '../errors.js';

/** The slice of `fs.promises` this module uses; tests pass a wrapper that fails chosen calls. */
export interface DurableFs {
  open(file: string, flags: string, mode?: number): Promise<DurableFileHandle>;
  rename(from: string, to: string): Promise<void>;
  link(existing: string, created: string): Promise<void>;
  unlink(file: string): Promise<void>;
  readFile(file: string): Promise<Buffer>;
  readdir(dir: string): Promise<string[]>;
  mkdir(dir: string, options: { recursive: true }): Promise<string | undefined>;
}

export interface DurableFileHandle {
  /** Vectored write at the current position (`writev(2)`): as many bytes as the kernel took, maybe fewer. */
  writev(buffers: Uint8Array[], position: null): Promise<{ bytesWritten: number }>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

export const realFs: DurableFs = nodeFs as unknown as DurableFs;

/** Temp files of this module start with this prefix (`.<name>.tmp-<pid>-<random>`). */
const TEMP_MARKER = '.tmp-';

export function tempPathFor(target: string): string {
  const dir = path.dirname(target);
  return path.join(
    dir,
    `.${path.basename(target)}${TEMP_MARKER}${process.pid}-${randomBytes(6).toString('hex')}`,
  );
}

/** Whether `fileName` is a temp file left by a replacement of `targetName` (a crash mid-save). */
export function isTempFileOf(fileName: string, targetName: string): boolean {
  return fileName.startsWith(`.${targetName}${TEMP_MARKER}`);
}

/** File contents: one buffer, or parts written in order (no copy into one buffer first). */
export type FileBytes = Uint8Array | readonly Uint8Array[];

/**
 * Write every byte: `writev(2)` may write less than asked (a full disk reports ENOSPC only on the next call),
 * so what is left is written again until nothing is. Parts go to the kernel as they are: a registry of
 * thousands of cached entries is never concatenated into one buffer (that copy cost more than the write).
 */
export async function writeAll(handle: DurableFileHandle, data: FileBytes): Promise<void> {
  let left = (data instanceof Uint8Array ? [data] : [...data]).filter((part) => part.length > 0);
  while (left.length > 0) {
    const { bytesWritten } = await handle.writev(left, null);
    if (bytesWritten <= 0) {
      throw Object.assign(new Error('write made no progress (0 bytes written)'), { code: 'EIO' });
    }
    left = dropWritten(left, bytesWritten);
  }
}

/** The parts still to write once the first `written` bytes of `parts` are on their way. */
function dropWritten(parts: Uint8Array[], written: number): Uint8Array[] {
  let skip = written;
  let i = 0;
  while (i < parts.length && skip >= parts[i]!.length) skip -= parts[i++]!.length;
  const rest = parts.slice(i);
  if (skip > 0 && rest.length > 0) rest[0] = rest[0]!.subarray(skip);
  return rest;
}

/** fsync a directory so renames and links in it survive power loss. */
export async function syncDirectory(fs: DurableFs, dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await syncDirectoryHandle(handle);
  } finally {
    await handle.close();
  }
}

async function syncDirectoryHandle(handle: DurableFileHandle): Promise<void> {
  try {
    await handle.sync();
  } catch (error) {
    // Some filesystems cannot fsync a directory (EINVAL); the rename is then as durable as they allow.
    if (systemErrorCode(error) !== 'EINVAL') throw error;
  }
}

/** Write `data` to a new temp file beside `target` and fsync it; returns the temp path. */
export async function writeTempFile(fs: DurableFs, target: string, data: FileBytes): Promise<string> {
  const temp = tempPathFor(target);
  const handle = await fs.open(temp, 'wx', 0o644);
  try {
    await writeAll(handle, data);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => {});
    await removeQuietly(fs, temp);
    throw error;
  }
  await handle.close();
  return temp;
}

/**
 * Make `copyPath` hold exactly the bytes of `sourcePath`, atomically. Files here are never modified in
 * place (every change is a new file renamed over the old), so a hard link is a safe, instant copy; where
 * links are not supported the bytes are copied through a fsync'd temp file.
 */
export async function replaceWithCopy(fs: DurableFs, sourcePath: string, copyPath: string): Promise<void> {
  const temp = tempPathFor(copyPath);
  try {
    await fs.link(sourcePath, temp);
  } catch (error) {
    if (!LINK_UNSUPPORTED.has(systemErrorCode(error) ?? '')) throw error;
    const written = await writeTempFile(fs, copyPath, await fs.readFile(sourcePath));
    await renameOrRemove(fs, written, copyPath);
    return;
  }
  await renameOrRemove(fs, temp, copyPath);
  // When `copyPath` already was a link to the same file (right after a restore from the backup), rename(2)
  // succeeds without doing anything and the temp link stays behind: remove it (ENOENT otherwise, ignored).
  await removeQuietly(fs, temp);
}

const LINK_UNSUPPORTED = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'ENOSYS', 'EMLINK']);

export interface ReplaceOptions {
  /** Before replacing, keep the current target (the last good version) under this path. */
  backupPath?: string;
}

/**
 * Replace `target` with `data` durably: temp file in the same directory, every byte written, fsync,
 * (optionally) the current version kept as the backup, rename over the target, fsync the directory.
 *
 * Writing the temp file, keeping the backup and opening the directory do not depend on each other, so they
 * run at once and only the rename waits for all three. Each is a round trip through the thread pool that
 * also waits for the event loop; run one after the other they made a save at 2,000 agents take twice as
 * long in a busy service as the disk needs (and replacing the old backup frees its blocks, which takes as
 * long as the fsync).
 *
 * On failure the target still holds its previous bytes: before the rename nothing visible changed; if the
 * final directory fsync fails, the previous version is put back from the backup. The error is rethrown.
 */
export async function replaceFileDurably(
  fs: DurableFs,
  target: string,
  data: FileBytes,
  options: ReplaceOptions = {},
): Promise<void> {
  const { backupPath } = options;
  const [written, backup, directory] = await Promise.allSettled([
    writeTempFile(fs, target, data),
    backupPath === undefined ? Promise.resolve(false) : promoteToBackup(fs, target, backupPath),
    fs.open(path.dirname(target), 'r'),
  ]);
  const temp = written.status === 'fulfilled' ? written.value : undefined;
  const dir = directory.status === 'fulfilled' ? directory.value : undefined;
  try {
    const failed = [written, backup, directory].find((step) => step.status === 'rejected');
    if (failed !== undefined) {
      if (temp !== undefined) await removeQuietly(fs, temp);
      throw (failed as PromiseRejectedResult).reason;
    }
    await renameOrRemove(fs, temp!, target);
    try {
      await syncDirectoryHandle(dir!);
    } catch (error) {
      // The new bytes are in place but not known to be durable, and the caller is told the save failed:
      // put the previous version back so the file matches what the caller believes.
      if (backup.status === 'fulfilled' && backup.value && backupPath !== undefined) {
        await replaceWithCopy(fs, backupPath, target).catch(() => {});
      }
      throw error;
    }
  } finally {
    await dir?.close().catch(() => {});
  }
}

/** Keep the current `target` as `backupPath`; returns false when there is no target yet. */
export async function promoteToBackup(fs: DurableFs, target: string, backupPath: string): Promise<boolean> {
  try {
    await replaceWithCopy(fs, target, backupPath);
    return true;
  } catch (error) {
    if (systemErrorCode(error) === 'ENOENT') return false;
    throw error;
  }
}

async function renameOrRemove(fs: DurableFs, temp: string, target: string): Promise<void> {
  try {
    await fs.rename(temp, target);
  } catch (error) {
    await removeQuietly(fs, temp);
    throw error;
  }
}

export async function removeQuietly(fs: DurableFs, file: string): Promise<void> {
  await fs.unlink(file).catch(() => {});
}
