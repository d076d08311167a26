/**
 * @module test/support/built-cli
 * The `agent-registry` command as installed: `node dist/jarvis_agent/service-cli.js` (the package bin), built by `npm run build` when dist/ is
 * missing or older than the sources (once per checkout: a lock directory keeps parallel test files from
 * building at the same time). Also runs the client commands in this process, for coverage.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { exportFromService, runClientCommand } from '../../src/cli/commands.js';
import { ROOT } from '../docs/module-graph.js';

/** The package's bin (package.json `bin`): the core command with the demo agents for `serve`. */
export const BUILT_CLI = path.join(ROOT, 'dist', 'jarvis_agent', 'service-cli.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (/\.(ts|sql)$/.test(entry.name)) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

function isFresh(): boolean {
  try {
    const built = statSync(BUILT_CLI).mtimeMs;
    return (
      built >= Math.max(newestSource(path.join(ROOT, 'src')), newestSource(path.join(ROOT, 'jarvis_agent')))
    );
  } catch {
    return false;
  }
}

/** Build dist/ unless it is current. */
export async function ensureBuilt(): Promise<void> {
  const lock = path.join(ROOT, 'dist.build-lock');
  for (;;) {
    if (isFresh()) return;
    try {
      mkdirSync(lock);
    } catch {
      await sleep(200); // another test file is building: wait for it
      continue;
    }
    try {
      if (isFresh()) return;
      const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
      if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}\n${build.stderr}`);
      return;
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A command that keeps running (`changes --follow`): wait for its output, then interrupt it. */
export interface RunningCli {
  waitForStdout(predicate: (text: string) => boolean): Promise<string>;
  waitForStderr(predicate: (text: string) => boolean): Promise<string>;
  /** Its outcome once it exits by itself. */
  done: Promise<CliRun>;
  /** Ctrl-C (SIGINT for the process), then its outcome. */
  interrupt(): Promise<CliRun>;
}

export interface CliRunner {
  readonly name: string;
  run(args: string[], env?: Record<string, string>): Promise<CliRun>;
  start(args: string[], env?: Record<string, string>): RunningCli;
}

/** Output that grows, with waits for it to satisfy a predicate. */
class Output {
  text = '';
  private waiters: { predicate: (text: string) => boolean; resolve: (text: string) => void }[] = [];
  private finished: string | undefined;

  append(chunk: string): void {
    this.text += chunk;
    for (const waiter of [...this.waiters]) {
      if (waiter.predicate(this.text)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(this.text);
      }
    }
  }

  finish(why: string): void {
    this.finished = why;
    for (const waiter of this.waiters) waiter.resolve(`${this.text}\n[${why}]`);
    this.waiters = [];
  }

  waitFor(predicate: (text: string) => boolean): Promise<string> {
    if (predicate(this.text)) return Promise.resolve(this.text);
    if (this.finished !== undefined) return Promise.resolve(`${this.text}\n[${this.finished}]`);
    return new Promise((resolve) => this.waiters.push({ predicate, resolve }));
  }
}

/** The built bin in its own process, with `env` over this process's environment. */
export const builtCli: CliRunner = {
  name: 'the built command',
  async run(args, env = {}) {
    return this.start(args, env).done;
  },
  start(args, env = {}) {
    const child = spawn(process.execPath, [BUILT_CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout = new Output();
    const stderr = new Output();
    child.stdout.on('data', (chunk) => stdout.append(String(chunk)));
    child.stderr.on('data', (chunk) => stderr.append(String(chunk)));
    const closed = new Promise<CliRun>((resolve) =>
      child.once('close', (code) => {
        stdout.finish(`exited ${code}`);
        stderr.finish(`exited ${code}`);
        resolve({ code, stdout: stdout.text, stderr: stderr.text });
      }),
    );
    return {
      waitForStdout: (predicate) => stdout.waitFor(predicate),
      waitForStderr: (predicate) => stderr.waitFor(predicate),
      done: closed,
      interrupt() {
        if (child.exitCode === null) child.kill('SIGINT');
        return closed;
      },
    };
  },
};

/** The same commands through `runClientCommand` in this process (`env` is the whole environment). */
export const inProcessCli: CliRunner = {
  name: 'in process',
  async run(args, env = {}) {
    return this.start(args, env).done;
  },
  start(args, env = {}) {
    const stdout = new Output();
    const stderr = new Output();
    const controller = new AbortController();
    const io = {
      stdout: (text: string) => stdout.append(text),
      stderr: (text: string) => stderr.append(text),
      env,
      signal: controller.signal,
    };
    const urlIndex = args.indexOf('--url');
    const done = (
      args[0] === 'export'
        ? exportFromService(urlIndex >= 0 ? args[urlIndex + 1] : env.REGISTRY_URL, io)
        : runClientCommand(args, io)
    ).then((code) => {
      stdout.finish(`exited ${code}`);
      stderr.finish(`exited ${code}`);
      return { code, stdout: stdout.text, stderr: stderr.text };
    });
    return {
      waitForStdout: (predicate) => stdout.waitFor(predicate),
      waitForStderr: (predicate) => stderr.waitFor(predicate),
      done,
      interrupt() {
        controller.abort();
        return done;
      },
    };
  },
};
