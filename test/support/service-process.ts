/**
 * @module test/support/service-process
 * The service as users run it: `agent-registry serve` in its own process (through tsx), on a free port and a
 * given data directory, with its log lines readable and a real kill.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_AGENT_FACTORY_ROOT } from '../../src/config.js';
import { exited, lines, spawnTs } from './child-process.js';
import { TEST_FACTORY_ROOT } from './service.js';

/** The command as the project ships it (the core CLI with the demo agents wired in). */
export const CLI = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'jarvis_agent',
  'service-cli.ts',
);

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface ServiceProcess {
  child: ChildProcess;
  output: ReturnType<typeof lines>;
  /** The parsed "listening on" log line. */
  summary: Record<string, unknown> & { msg: string; agents: number };
  url: string;
  /** SIGKILL (the default: a crash) or SIGTERM, and wait until the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Start `agent-registry serve` on `dataDir` and resolve once it logs that it listens. */
export async function serveProcess(
  dataDir: string,
  env: Record<string, string> = {},
): Promise<ServiceProcess> {
  const port = await freePort();
  const child = spawnTs(CLI, ['serve'], {
    DATA_DIR: dataDir,
    PORT: String(port),
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'info',
    AGENT_FACTORY_ROOTS: [DEFAULT_AGENT_FACTORY_ROOT, TEST_FACTORY_ROOT].join(','),
    SESSION_CLEANUP_INTERVAL_MINUTES: '0',
    ...env,
  });
  const output = lines(child);
  const summary = JSON.parse(await output.waitFor((line) => line.includes('listening on')));
  return {
    child,
    output,
    summary,
    url: `http://127.0.0.1:${port}`,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited(child);
    },
  };
}
