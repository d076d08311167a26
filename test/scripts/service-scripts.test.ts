/**
 * scripts/start_registry_service.sh and scripts/stop_registry_service.sh, run for real: each test has its
 * own port, data directory, pidfile and log file, so it neither sees nor disturbs a developer's instance.
 * The scripts build dist/ of this checkout when it is missing or older than the sources.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { exited, lines } from '../support/child-process.js';
import { freePort, portIsFree } from '../support/ports.js';
import { processAlive } from '../support/processes.js';
import { call } from '../support/service.js';
import { useTempDirs } from '../support/temp-dir.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const tempDir = useTempDirs('service-scripts-');

/** The environment without anything that would change the service or the scripts behind our back. */
const BASE_ENV = Object.fromEntries(
  Object.entries(process.env).filter(
    ([name]) =>
      !/^(GOOGLE_API_KEY|HOST|PORT|DATA_DIR|DATABASE_URL|AGENT_FACTORY_.*|REGISTRY_.*|LOG_.*|SESSION_.*|ROUTER_.*)$/.test(
        name,
      ),
  ),
);

interface Instance {
  root: string;
  port: number;
  url: string;
  dataDir: string;
  pidFile: string;
  logFile: string;
  env: Record<string, string>;
}

const instances: Instance[] = [];
const foreigners: ChildProcess[] = [];

afterEach(async () => {
  for (const instance of instances.splice(0)) {
    if (existsSync(instance.pidFile)) await script(instance, 'stop_registry_service.sh');
  }
  for (const child of foreigners.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited(child);
  }
});

/** A port, data directory, pidfile and log file of its own; `root` is the checkout whose scripts run. */
async function newInstance(root = ROOT, env: Record<string, string> = {}): Promise<Instance> {
  const dir = tempDir();
  const port = await freePort();
  const instance: Instance = {
    root,
    port,
    url: `http://127.0.0.1:${port}`,
    dataDir: path.join(dir, 'data'),
    pidFile: path.join(dir, 'run', 'registry.pid'),
    logFile: path.join(dir, 'logs', 'registry.log'),
    env: {},
  };
  instance.env = {
    PORT: String(port),
    DATA_DIR: instance.dataDir,
    REGISTRY_PID_FILE: instance.pidFile,
    REGISTRY_LOG_FILE: instance.logFile,
    ...env,
  };
  instances.push(instance);
  return instance;
}

interface ScriptResult {
  code: number | null;
  /** stdout and stderr, interleaved as they came. */
  output: string;
}

async function script(
  instance: Instance,
  name: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<ScriptResult> {
  const child = spawn('bash', [path.join(instance.root, 'scripts', name), ...args], {
    env: { ...BASE_ENV, ...instance.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += String(chunk);
  });
  child.stderr.on('data', (chunk) => {
    output += String(chunk);
  });
  const { code } = await exited(child);
  return { code, output };
}

async function start(instance: Instance, args: string[] = [], env: Record<string, string> = {}) {
  return script(instance, 'start_registry_service.sh', args, env);
}

function pidOf(instance: Instance): number {
  return Number(readFileSync(instance.pidFile, 'utf8').trim());
}

/** A plain TCP listener on `port` in a process of the test's own: someone else's server. */
async function foreignListener(port: number, ignoreSigterm = false): Promise<ChildProcess> {
  const code = `${ignoreSigterm ? "process.on('SIGTERM', () => {});" : ''}
    require('node:net').createServer((socket) => socket.end('foreign\\n')).listen(${port}, '127.0.0.1', () => console.log('listening'));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
  foreigners.push(child);
  await lines(child).waitFor((line) => line === 'listening');
  return child;
}

async function answers(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (chunk) => {
      data += String(chunk);
    });
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
  });
}

const HR_AGENT = {
  agent_type: 'generic',
  factory_module: 'jarvis_agent.mcp_agents.agent_factory',
  factory_function: 'create_generic_agent',
  factory_params: { name: 'hr_agent', description: 'Answers HR policy questions' },
};

async function agentNames(instance: Instance): Promise<string[]> {
  const { body } = await call(instance.url, 'GET', '/registry/agents');
  return body.agents.map((agent: { name: string }) => agent.name);
}

describe('start_registry_service.sh', () => {
  it('builds if needed, starts the service in the background, waits for /health and prints the URLs', async () => {
    const instance = await newInstance();
    const started = await start(instance);
    expect(started.code, started.output).toBe(0);
    expect(started.output).toContain('warning: GOOGLE_API_KEY is not set');
    for (const route of ['', '/docs', '/health'])
      expect(started.output).toContain(`${instance.url}${route}\n`);

    const pid = pidOf(instance);
    expect(processAlive(pid)).toBe(true);
    // The pidfile names the process that holds the data directory, i.e. the service itself.
    expect(JSON.parse(readFileSync(path.join(instance.dataDir, '.lock.json'), 'utf8')).pid).toBe(pid);
    expect((await call(instance.url, 'GET', '/health')).body.status).toBe('ok');
    expect(readFileSync(instance.logFile, 'utf8')).toContain(`listening on ${instance.url}`);
  }, 180_000);

  it('refuses a port held by another process, naming the port and the process, and leaves it alone', async () => {
    const instance = await newInstance();
    const foreign = await foreignListener(instance.port);

    const refused = await start(instance);
    expect(refused.code).toBe(1);
    expect(refused.output).toContain(`port ${instance.port} is in use by process ${foreign.pid} (`);
    expect(refused.output).toMatch(/\(\S*node -e .*\)\. Stop it, set PORT to a free port, or pass --force/);
    expect(processAlive(foreign.pid!)).toBe(true);
    expect(await answers(instance.port)).toBe('foreign\n');
    expect(existsSync(instance.pidFile)).toBe(false);
  }, 180_000);

  it('with --force, says which process it stops, stops it, and starts', async () => {
    const instance = await newInstance();
    const foreign = await foreignListener(instance.port);

    const forced = await start(instance, ['--force']);
    expect(forced.code, forced.output).toBe(0);
    expect(forced.output).toContain(`--force: stopping process ${foreign.pid} (`);
    expect((await exited(foreign)).signal).toBe('SIGTERM');
    expect((await call(instance.url, 'GET', '/health')).status).toBe(200);
  }, 180_000);

  it('replaces its own earlier instance, and keeps the data across stop and start', async () => {
    // A small log cap, so that this test's output rotates.
    const instance = await newInstance(ROOT, { REGISTRY_LOG_MAX_BYTES: '4096', REGISTRY_LOG_FILES: '2' });
    expect((await start(instance)).code).toBe(0);
    const first = pidOf(instance);
    expect((await call(instance.url, 'POST', '/registry/agents', { body: HR_AGENT })).status).toBe(201);

    const again = await start(instance);
    expect(again.code, again.output).toBe(0);
    expect(again.output).toContain(`stopping the earlier instance (pid ${first},`);
    const second = pidOf(instance);
    expect(second).not.toBe(first);
    expect(processAlive(first)).toBe(false);
    expect(await agentNames(instance)).toContain('hr_agent');

    const stopped = await script(instance, 'stop_registry_service.sh');
    expect(stopped.code, stopped.output).toBe(0);
    expect(processAlive(second)).toBe(false);
    expect(existsSync(instance.pidFile)).toBe(false);
    expect(await portIsFree(instance.port)).toBe(true);
    // SIGTERM let the service shut down cleanly, and its last line reached the log before stop returned.
    expect(readFileSync(instance.logFile, 'utf8').trimEnd().split('\n').at(-1)).toContain('"msg":"stopped"');
    const logs = [instance.logFile, `${instance.logFile}.1`, `${instance.logFile}.2`].filter((file) =>
      existsSync(file),
    );
    expect(logs.length).toBeGreaterThanOrEqual(2);
    for (const file of logs) expect(statSync(file).size, file).toBeLessThanOrEqual(4096);
    expect(existsSync(`${instance.logFile}.3`)).toBe(false);

    expect((await start(instance)).code).toBe(0);
    expect(await agentNames(instance)).toEqual(['finops_agent', 'hr_agent', 'oxygen_agent', 'tickets_agent']);
  }, 180_000);

  it('fails, showing the service’s own message, when the service cannot start', async () => {
    const instance = await newInstance();
    const failed = await start(instance, [], { HOST: '0.0.0.0' });
    expect(failed.code).toBe(1);
    expect(failed.output).toContain('HOST=0.0.0.0 is not a loopback address');
    expect(failed.output).toContain('the service exited during start-up');
    expect(existsSync(instance.pidFile)).toBe(false);
    expect(await portIsFree(instance.port)).toBe(true);
  }, 180_000);

  it('refuses bad options and settings before doing anything', async () => {
    const instance = await newInstance();
    for (const [args, env, message] of [
      [['--docker', '--reload'], {}, '--reload and --docker cannot be combined'],
      [['--frobnicate'], {}, 'unknown option: --frobnicate'],
      [[], { PORT: '80x' }, 'PORT="80x" must be a port number'],
      [[], { REGISTRY_LOG_FILES: '0' }, 'REGISTRY_LOG_FILES="0" must be a whole number >= 1'],
    ] as const) {
      const result = await start(instance, [...args], env);
      expect(result.code, message).toBe(2);
      expect(result.output).toContain(message);
    }
    expect(existsSync(instance.pidFile)).toBe(false);
  });

  it.skipIf(dockerComposeWorks())('--docker says what is missing when Docker cannot run here', async () => {
    const instance = await newInstance();
    const result = await start(instance, ['--docker']);
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/--docker needs|no Docker engine answers/);
    expect(await portIsFree(instance.port)).toBe(true);
  });

  it('--reload runs from source and restarts on a source change', async () => {
    // A copy of the sources, so that changing one disturbs no other test.
    const copy = tempDir();
    for (const entry of ['package.json', 'tsconfig.json', 'src', 'jarvis_agent', 'scripts']) {
      cpSync(path.join(ROOT, entry), path.join(copy, entry), { recursive: true });
    }
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
    const instance = await newInstance(copy);
    const started = await start(instance, ['--reload']);
    expect(started.code, started.output).toBe(0);
    const watcher = pidOf(instance);
    expect(readFileSync(`/proc/${watcher}/cmdline`, 'utf8')).toContain('watch');

    const log = spawn('tail', ['-n', '+1', '-F', instance.logFile], { stdio: ['ignore', 'pipe', 'ignore'] });
    foreigners.push(log);
    const output = lines(log);
    await output.waitFor((line) => line.includes('listening on'));
    const version = path.join(copy, 'src', 'version.ts');
    writeFileSync(version, `${readFileSync(version, 'utf8')}// changed\n`);
    await output.waitFor(
      (line) =>
        output.all.filter((each) => each.includes('listening on')).length >= 2 &&
        line.includes('listening on'),
    );
    expect((await call(instance.url, 'GET', '/health')).status).toBe(200);

    const stopped = await script(instance, 'stop_registry_service.sh');
    expect(stopped.code, stopped.output).toBe(0);
    expect(processAlive(watcher)).toBe(false);
    expect(await portIsFree(instance.port)).toBe(true);
  }, 180_000);
});

describe('stop_registry_service.sh', () => {
  it('sends SIGKILL when SIGTERM is not enough, then removes the pidfile', async () => {
    const instance = await newInstance();
    const stubborn = spawn(
      process.execPath,
      [
        '-e',
        "process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1 << 30);",
        'dist/jarvis_agent/service-cli.js',
        'serve',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    foreigners.push(stubborn);
    await lines(stubborn).waitFor((line) => line === 'ready');
    mkdirSync(path.dirname(instance.pidFile), { recursive: true });
    writeFileSync(instance.pidFile, `${stubborn.pid}\n`);

    const stopped = await script(instance, 'stop_registry_service.sh', [], { REGISTRY_STOP_TIMEOUT: '1' });
    expect(stopped.code, stopped.output).toBe(0);
    expect(stopped.output).toContain(
      `process ${stubborn.pid} did not stop within 1s of SIGTERM: sending SIGKILL`,
    );
    expect((await exited(stubborn)).signal).toBe('SIGKILL');
    expect(existsSync(instance.pidFile)).toBe(false);
  });

  it('leaves alone a process that is not the service, and clears stale pidfiles', async () => {
    const instance = await newInstance();
    expect((await script(instance, 'stop_registry_service.sh')).output).toContain(
      'not running (no pidfile at',
    );

    const foreign = await foreignListener(instance.port);
    mkdirSync(path.dirname(instance.pidFile), { recursive: true });
    writeFileSync(instance.pidFile, `${foreign.pid}\n`);
    const stopped = await script(instance, 'stop_registry_service.sh');
    expect(stopped.code).toBe(0);
    expect(stopped.output).toContain(`names process ${foreign.pid}, which is not the registry service`);
    expect(stopped.output).toContain('not running (removed the stale pidfile');
    expect(processAlive(foreign.pid!)).toBe(true);
    expect(existsSync(instance.pidFile)).toBe(false);
  });
});

function dockerComposeWorks(): boolean {
  return (
    spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0 &&
    spawnSync('docker', ['info'], { stdio: 'ignore' }).status === 0
  );
}
