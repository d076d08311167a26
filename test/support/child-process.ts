/**
 * @module test/support/child-process
 * Run TypeScript fixtures as real child processes (through tsx), read their output line by line,
 * and kill them for real.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';

export const TSX_ARGS = ['--import', 'tsx'];

export function spawnTs(
  file: string,
  args: readonly string[] = [],
  env: NodeJS.ProcessEnv = {},
): ChildProcess {
  return spawn(process.execPath, [...TSX_ARGS, file, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Collect stdout lines as they arrive; `waitFor` resolves when a line matches. */
export function lines(child: ChildProcess): {
  all: string[];
  waitFor(predicate: (line: string) => boolean): Promise<string>;
} {
  const all: string[] = [];
  const waiters: { predicate: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    all.push(line);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  return {
    all,
    waitFor(predicate) {
      const seen = all.find(predicate);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ predicate, resolve });
        // 'close', not 'exit': 'exit' can fire before the last stdout data has been read.
        child.once('close', (code, signal) => {
          const late = all.find(predicate);
          if (late !== undefined) resolve(late);
          else
            reject(
              new Error(`child exited (${code ?? signal}) before the expected line; stderr:\n${stderr}`),
            );
        });
      });
    },
  };
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if ((child.exitCode !== null || child.signalCode !== null) && child.stdout?.readableEnded !== false) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  // 'close' follows 'exit' once stdout and stderr are drained, so output read afterwards is complete.
  return new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
}

/**
 * Whether this machine lets an unprivileged process mount a private tmpfs (`unshare -Urm`). Tests of a
 * full or read-only disk need it; where it is missing they are skipped with a visible notice.
 */
export function canMountPrivateTmpfs(): boolean {
  const probe = spawnSync(
    'unshare',
    [
      '-Urm',
      '--propagation',
      'private',
      'sh',
      '-c',
      'mount -t tmpfs -o size=16k tmpfs /mnt 2>/dev/null || mount -t tmpfs -o size=16k tmpfs /tmp',
    ],
    {
      stdio: 'ignore',
    },
  );
  return probe.status === 0;
}

/**
 * Run a TypeScript fixture as `fixture <dir>` inside a private mount namespace where `dir` is a fresh tmpfs of
 * `size` (e.g. '96k'): a real small disk the fixture can fill, or remount read-only, without root.
 */
export function spawnTsOnTmpfs(fixture: string, dir: string, size: string): ChildProcess {
  return spawn(
    'unshare',
    [
      '-Urm',
      '--propagation',
      'private',
      'sh',
      '-c',
      `mount -t tmpfs -o size=${size} tmpfs "$1" && exec "${process.execPath}" ${TSX_ARGS.join(' ')} "$2" "$1"`,
      'sh',
      dir,
      fixture,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
}
