/**
 * The image's runtime stage, reproduced without Docker (there is no Docker engine here): the Dockerfile is
 * read for what each stage copies, the runtime stage's environment, user, command and healthcheck, and
 * docker-compose.yml for Jarvis's command and environment. Then:
 * - build stage: the build context's COPY sources in a clean directory, compiled with `npm run build`
 *   (against this checkout's dev dependencies, which the same lockfile pins);
 * - deps stage: `npm ci --omit=dev` in a clean directory holding only package.json and package-lock.json,
 *   without install scripts: the native addons this checkout compiled are dropped in instead, as
 *   prebuild-install drops in a prebuilt one in the image (that avoids minutes of compiling);
 * - runtime stage: only what its COPY --from lines take, owned by root, with a data directory owned by an
 *   unprivileged user, who runs exactly the image's CMD (and Jarvis's compose command).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exited, lines } from '../support/child-process.js';
import { type ComposeService, loadCompose, service } from '../support/compose.js';
import {
  copies,
  env,
  execForm,
  instructions,
  last,
  parseDockerfile,
  type Stage,
  stage,
} from '../support/dockerfile.js';
import { freePort } from '../support/ports.js';
import { processAlive, processUid } from '../support/processes.js';
import { call } from '../support/service.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const WORKDIR = '/app';
/**
 * The size of the node:20-bookworm-slim base image assumed for the image size budget (uncompressed, as
 * `docker images` shows it); docs/deployment.md says where the figure comes from.
 */
const BASE_IMAGE_MB = 250;
const IMAGE_BUDGET_MB = 500;

const ADMIN_TOKEN = 'admin-token-for-the-layout-test';
const API_TOKEN = 'api-token-for-the-layout-test';

// The image's `node` user does not exist here: as root, run as nobody; otherwise we are unprivileged already.
const RUN_AS_ROOT = process.getuid?.() === 0;
const UNPRIVILEGED = RUN_AS_ROOT
  ? { uid: 65534, gid: 65534 }
  : { uid: process.getuid?.(), gid: process.getgid?.() };

const stages = parseDockerfile(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
const runtime = stage(stages, 'runtime');
const imageEnv = env(runtime);
const compose = loadCompose(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), {
  REGISTRY_ADMIN_TOKEN: ADMIN_TOKEN,
  REGISTRY_API_TOKEN: API_TOKEN,
});

let scratch: string;
/** /app of the runtime stage. */
let app: string;
/** The /app/data volume of the process started last. */
let dataDir: string;
const children: ChildProcess[] = [];

beforeAll(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'runtime-layout-'));
  chmodSync(scratch, 0o755);
  const built = reproduceBuildStage(stage(stages, 'build'), path.join(scratch, 'build'));
  const deps = reproduceDepsStage(stage(stages, 'deps'), path.join(scratch, 'deps'));
  app = path.join(scratch, 'app');
  mkdirSync(app, { mode: 0o755 });
  for (const copy of copies(runtime)) {
    const from = copy.from === 'deps' ? deps : copy.from === 'build' ? built : undefined;
    if (from === undefined)
      throw new Error(`runtime COPY from "${copy.from}": only deps and build are reproduced`);
    // Moved rather than copied: the stage directories are scratch, and the tree has some 25,000 files.
    for (const source of copy.sources)
      renameSync(insideStage(from, source), path.resolve(app, copy.destination));
  }
}, 600_000);

/** A fresh /app/data volume, writable by the unprivileged user only (as `chown node:node /app/data`). */
function newVolume(): void {
  dataDir = mkdtempSync(path.join(scratch, 'data-'));
  chmodSync(dataDir, 0o755);
  if (RUN_AS_ROOT) chownSync(dataDir, UNPRIVILEGED.uid!, UNPRIVILEGED.gid!);
}

afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited(child);
    }
  }
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
}, 120_000);

describe('the Dockerfile', () => {
  it('builds on Node 20 slim in stages, and runs unprivileged with its data in the volume', () => {
    for (const each of stages) expect(each.from).toMatch(/^node:20(\.[\d.]+)?-[a-z]+-slim$/);
    expect(stages.map((each) => each.name)).toEqual(['deps', 'build', 'runtime']);
    const user = last(runtime, 'USER').args;
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(imageEnv).toMatchObject({ HOST: '0.0.0.0', DATA_DIR: `${WORKDIR}/data` });
    expect(JSON.parse(last(runtime, 'VOLUME').args)).toEqual([imageEnv.DATA_DIR]);
    expect(last(runtime, 'EXPOSE').args).toBe(imageEnv.PORT);
    expect(last(runtime, 'WORKDIR').args).toBe(WORKDIR);
    // Only the deps stage installs anything native; the runtime stage installs nothing at all.
    expect(instructions(runtime, 'RUN').map((run) => run.args)).toEqual([
      `mkdir -p ${imageEnv.DATA_DIR} && chown ${user}:${user} ${imageEnv.DATA_DIR}`,
    ]);
  });

  it('copies from the build context only what .dockerignore lets in', () => {
    const allowed = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('!'))
      .map((line) => line.slice(1));
    expect(readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')).toMatch(/^\*$/m);
    const sources = stages
      .flatMap((each) => copies(each).filter((copy) => copy.from === undefined))
      .flatMap((copy) => copy.sources);
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(allowed, `COPY ${source}`).toContain(source);
      expect(existsSync(path.join(ROOT, source)), `COPY ${source}`).toBe(true);
    }
  });
});

describe('docker-compose.yml', () => {
  it('requires both tokens, mounts the data directory, and starts Jarvis once the service is healthy', () => {
    expect(() => loadCompose(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), {})).toThrow(
      /required variable REGISTRY_ADMIN_TOKEN is missing a value/,
    );
    const registry = service(compose, 'registry');
    expect(registry.volumes).toEqual([`./data:${imageEnv.DATA_DIR}`]);
    expect(registry.ports).toEqual([`127.0.0.1:8003:${imageEnv.PORT}`]);
    expect(registry.environment).toMatchObject({
      REGISTRY_ADMIN_TOKEN: ADMIN_TOKEN,
      REGISTRY_API_TOKEN: API_TOKEN,
    });
    const jarvis = service(compose, 'jarvis');
    expect(jarvis.depends_on).toEqual({ registry: { condition: 'service_healthy' } });
    expect(jarvis.environment?.REGISTRY_URL).toBe(`http://registry:${imageEnv.PORT}`);
  });

  it('has a postgres profile: PostgreSQL, and two replicas of the service on it', () => {
    const replicas = service(compose, 'registry-pg');
    expect(service(compose, 'postgres').profiles).toEqual(['postgres']);
    expect(replicas.profiles).toEqual(['postgres']);
    expect(replicas.deploy?.replicas).toBe(2);
    expect(replicas.environment?.DATABASE_URL).toMatch(/^postgres:\/\/registry:@postgres:5432\/registry$/);
    expect(replicas.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(replicas.volumes).toBeUndefined();
  });
});

describe('the runtime stage, reproduced', () => {
  it('holds only production dependencies and the build output, within the image size budget', () => {
    expect(readdirSync(app).sort()).toEqual(['dist', 'node_modules', 'package.json']);
    // What the lockfile marks as needed only for development is absent; the rest is there.
    const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean; optional?: boolean }>;
    };
    const entries = Object.entries(lock.packages).filter(([where]) => where.startsWith('node_modules/'));
    const present = (where: string) => existsSync(path.join(app, where, 'package.json'));
    expect(
      entries.filter(([where, entry]) => entry.dev === true && present(where)).map(([where]) => where),
    ).toEqual([]);
    const required = entries.filter(([, entry]) => entry.dev !== true && entry.optional !== true);
    expect(required.length).toBeGreaterThan(100);
    expect(required.filter(([where]) => !present(where)).map(([where]) => where)).toEqual([]);
    const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
    const contents = mb(apparentSize(app));
    console.log(
      `runtime stage contents: ${contents} MB (node_modules ${mb(apparentSize(path.join(app, 'node_modules')))} MB, ` +
        `dist ${mb(apparentSize(path.join(app, 'dist')))} MB); with a ${BASE_IMAGE_MB} MB base: ~${contents + BASE_IMAGE_MB} MB`,
    );
    expect(contents + BASE_IMAGE_MB).toBeLessThan(IMAGE_BUDGET_MB);
  });

  it("starts unprivileged with the image's CMD, answers /health, and its HEALTHCHECK passes until it stops", async () => {
    newVolume();
    const port = await freePort();
    const registryEnv = { ...imageEnv, ...service(compose, 'registry').environment, PORT: String(port) };
    const child = runUnprivileged(execForm(last(runtime, 'CMD')), registryEnv);
    const output = lines(child);
    await output.waitFor((line) => line.includes('listening on'));
    const url = `http://127.0.0.1:${port}`;

    expect(processUid(child.pid!)).toBe(UNPRIVILEGED.uid);
    expect(processUid(child.pid!)).not.toBe(0);
    expect((await call(url, 'GET', '/health')).body).toMatchObject({ status: 'ok', registry: { agents: 3 } });
    // The build stage built the web UI into dist/ui, and the runtime serves it from there.
    const ui = await call(url, 'GET', '/ui');
    expect(ui.status).toBe(200);
    expect(ui.headers.get('content-type')).toMatch(/^text\/html/);
    expect(ui.body).toMatch(/<script type="module"[^>]* src="\/ui\/assets\/[^"]+\.js"/);
    for (const file of ['registry_config.json', 'sessions.db']) {
      expect(statSync(path.join(dataDir, file)).uid, file).toBe(UNPRIVILEGED.uid);
    }
    // A non-loopback bind: registry changes need the admin token.
    const body = {
      agent_type: 'generic',
      factory_module: 'jarvis_agent.mcp_agents.agent_factory',
      factory_function: 'create_generic_agent',
      factory_params: { name: 'hr_agent', description: 'Answers HR policy questions' },
    };
    expect((await call(url, 'POST', '/registry/agents', { body })).status).toBe(401);
    const registered = await call(url, 'POST', '/registry/agents', {
      body,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(registered.status).toBe(201);

    const healthcheck = execForm(last(runtime, 'HEALTHCHECK'));
    expect(healthcheck[0]).toBe('node');
    expect((await exited(runUnprivileged(healthcheck, registryEnv))).code).toBe(0);

    child.kill('SIGTERM');
    expect((await exited(child)).code).toBe(0);
    expect(processAlive(child.pid!)).toBe(false);
    expect((await exited(runUnprivileged(healthcheck, registryEnv))).code).toBe(1);
  }, 120_000);

  it("runs Jarvis with compose's command and environment, against the service, and its healthcheck passes", async () => {
    newVolume();
    const port = await freePort();
    const registryEnv = { ...imageEnv, ...service(compose, 'registry').environment, PORT: String(port) };
    const registryProcess = runUnprivileged(execForm(last(runtime, 'CMD')), registryEnv);
    await lines(registryProcess).waitFor((line) => line.includes('listening on'));

    const jarvis: ComposeService = service(compose, 'jarvis');
    const jarvisPort = await freePort();
    const jarvisEnv = {
      ...imageEnv,
      ...jarvis.environment,
      JARVIS_PORT: String(jarvisPort),
      // Compose's network: the service's name resolves to its container.
      REGISTRY_URL: (jarvis.environment?.REGISTRY_URL ?? '').replace(
        `//registry:${imageEnv.PORT}`,
        `//127.0.0.1:${port}`,
      ),
    };
    const jarvisProcess = runUnprivileged(jarvis.command ?? [], jarvisEnv);
    await lines(jarvisProcess).waitFor((line) => line.includes('Jarvis listening on'));
    const url = `http://127.0.0.1:${jarvisPort}`;

    expect((await call(url, 'GET', '/health')).body).toMatchObject({
      status: 'ok',
      registry: { reachable: true, agents: 3 },
    });
    const chat = await call(url, 'POST', '/chat', {
      body: { user_id: 'alice', message: 'show my open tickets' },
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    expect(chat.status).toBe(200);
    expect(chat.body.agents).toEqual(['tickets_agent']);
    const healthcheck = jarvis.healthcheck?.test ?? [];
    expect(healthcheck[0]).toBe('CMD');
    expect((await exited(runUnprivileged(healthcheck.slice(1), jarvisEnv))).code).toBe(0);

    for (const child of [jarvisProcess, registryProcess]) {
      child.kill('SIGTERM');
      expect((await exited(child)).code).toBe(0);
    }
  }, 120_000);
});

/** The build stage: its build-context COPY sources in a clean directory, then `npm run build`. */
function reproduceBuildStage(build: Stage, dir: string): string {
  expect(instructions(build, 'RUN').map((run) => run.args)).toContain('npm run build');
  copyContext(build, dir);
  // Stands in for the stage's `npm ci --ignore-scripts`: the same lockfile, installed here already.
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  run('npm', ['run', 'build'], dir);
  rmSync(path.join(dir, 'node_modules'));
  return dir;
}

/** The deps stage: `npm ci --omit=dev` on the lockfile alone, with this checkout's compiled addons. */
function reproduceDepsStage(deps: Stage, dir: string): string {
  const install = instructions(deps, 'RUN').find((each) => each.args.startsWith('npm ci'));
  expect(install?.args).toMatch(/^npm ci --omit=dev\b/);
  copyContext(deps, dir);
  run('npm', [...(install?.args.split(/\s+/).slice(1) ?? []), '--ignore-scripts', '--prefer-offline'], dir);
  const addons = nativeAddons(path.join(dir, 'node_modules'));
  expect(addons).toContain('better-sqlite3');
  for (const addon of addons) {
    const version = (root: string) =>
      JSON.parse(readFileSync(path.join(root, 'node_modules', addon, 'package.json'), 'utf8')).version;
    expect(version(dir), `${addon} in this checkout and in the lockfile`).toBe(version(ROOT));
    const release = path.join('node_modules', addon, 'build', 'Release');
    mkdirSync(path.join(dir, release), { recursive: true });
    for (const file of readdirSync(path.join(ROOT, release)).filter((name) => name.endsWith('.node'))) {
      cpSync(path.join(ROOT, release, file), path.join(dir, release, file));
    }
  }
  return dir;
}

/** Copy a stage's build-context COPY sources from this checkout into `dir` (its /app). */
function copyContext(of: Stage, dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  for (const copy of copies(of).filter((each) => each.from === undefined)) {
    for (const source of copy.sources) {
      const target = copy.destination.endsWith('/')
        ? path.join(dir, copy.destination, source)
        : path.join(dir, copy.destination);
      cpSync(path.join(ROOT, source), target, { recursive: true });
    }
  }
}

/** Top-level installed packages that build a native addon (they have a binding.gyp). */
function nativeAddons(nodeModules: string): string[] {
  const packages = readdirSync(nodeModules).flatMap((name) =>
    name.startsWith('@')
      ? readdirSync(path.join(nodeModules, name)).map((scoped) => `${name}/${scoped}`)
      : [name],
  );
  return packages.filter((name) => existsSync(path.join(nodeModules, name, 'binding.gyp')));
}

/** A path of a stage's filesystem (`/app/...`) inside the directory that reproduces it. */
function insideStage(stageDir: string, containerPath: string): string {
  if (!containerPath.startsWith(`${WORKDIR}/`)) throw new Error(`${containerPath} is outside ${WORKDIR}`);
  return path.join(stageDir, containerPath.slice(WORKDIR.length + 1));
}

function run(command: string, args: string[], cwd: string): void {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
}

/**
 * Run a container command in the reproduced runtime stage: cwd /app, the given environment only (as in a
 * container), /app/data mapped to the data volume, as the unprivileged user.
 */
function runUnprivileged(command: readonly string[], environment: Record<string, string>): ChildProcess {
  const mapped = Object.fromEntries(
    Object.entries(environment).map(([name, value]) => [name, value === imageEnv.DATA_DIR ? dataDir : value]),
  );
  const childEnv = { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', ...mapped };
  const [program = '', ...args] = command;
  const child = RUN_AS_ROOT
    ? spawn(
        'setpriv',
        [
          `--reuid=${UNPRIVILEGED.uid}`,
          `--regid=${UNPRIVILEGED.gid}`,
          '--clear-groups',
          '--',
          program,
          ...args,
        ],
        {
          cwd: app,
          env: childEnv,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      )
    : spawn(program, args, { cwd: app, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return child;
}

/** Bytes of the files under `dir` (what an image layer holds), symlinks counted as links. */
function apparentSize(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: false }) as string[]) {
    const stats = lstatSync(path.join(dir, entry));
    if (stats.isFile() || stats.isSymbolicLink()) total += stats.size;
  }
  return total;
}
