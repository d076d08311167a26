#!/usr/bin/env node
/**
 * @module cli
 * The `agent-registry` command: `serve` (the default) runs the service; `db-init` creates or migrates the
 * session database; `export` prints the registry file; `repair` shows and restores what start-up set aside.
 * The client commands (`agents`, `import`, `sessions`, `route`, `changes`, and `export` with a service URL)
 * call a running service's API (`src/cli/commands.ts`). Configuration comes from the environment.
 * Exit codes: 0 success, 1 failure (an API error), 2 usage error.
 * Run directly, it is the bare core (no default agents); the project's entry point
 * (`jarvis_agent/service-cli.ts`, what `npm start`, the package's bin and the image run) calls
 * {@link runCli} with the demo agents and the offline model.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CLIENT_COMMANDS, exportFromService, runClientCommand } from './cli/commands.js';
import { CLIENT_HELP } from './cli/help.js';
import type { CliIo } from './cli/io.js';
import { messageOf } from './errors.js';
import { isMainModule } from './is-main-module.js';
import type { ServiceOptions } from './main.js';
import { SERVICE_NAME, VERSION } from './version.js';

const USAGE = `${SERVICE_NAME} ${VERSION}

Usage: agent-registry [command] [options]

Commands against a running service (REGISTRY_URL or --url, default http://127.0.0.1:8003; tokens from
REGISTRY_ADMIN_TOKEN, REGISTRY_API_TOKEN, REGISTRY_READ_TOKEN; --json for scripts; --help on each):
  agents ls | show <name> | register <file.json> | update-capabilities <name> <file.json>
         | enable <name> | disable <name> | rm <name>
  import <file> [--dry-run]
             Register or update many agents from an export file (or an array); --dry-run prints the diff.
  sessions ls [--user u] [--status s] | show <id> | cleanup [--days n] [--dry-run]
  route "<query>" [--session id] [--top-k n]      route replay <change.json>
  changes [--since rev] [--follow]
             Print (--follow: stream) the registry's change feed.

Commands on this machine's storage:
  serve      Run the service (default). Configured by environment variables: PORT, HOST, DATA_DIR,
             REGISTRY_ADMIN_TOKEN, AGENT_FACTORY_ROOTS, CORS_ORIGINS, GOOGLE_API_KEY, ... (see README).
  db-init    Create the database (DATA_DIR/sessions.db, or DATABASE_URL's), or apply pending migrations,
             and exit. On SQLite it refuses while a service holds DATA_DIR.
  export     Print the registry (registry_config.json format) to stdout and exit. With --url <url> or
             REGISTRY_URL set it asks that service (GET /registry/export); otherwise (or with --storage) it
             reads DATA_DIR or DATABASE_URL directly: reads only, safe while the service runs.
  move-to-postgres --to <postgres://...>
             Copy DATA_DIR's registry and sessions into a PostgreSQL database (migrated first), keeping
             ids and timestamps; skips what is already there. Stop the service first.
  repair     Show what start-up set aside in DATA_DIR (unusable files, records that failed validation),
             record by record. Changes nothing unless --apply is given.
               --apply        restore the valid records into the registry (the service must be stopped)
               --file <path>  look at this file instead of every set-aside file (repeatable)
               --json         print the plan as JSON

Options:
  -h, --help      Show this help.
  -v, --version   Show the version.
`;

const COMMANDS = new Set(['serve', 'db-init', 'export', 'repair', 'move-to-postgres']);

/** What the program running the command adds to the core: the options `serve` starts the service with. */
export interface CliOptions {
  service?: Pick<ServiceOptions, 'defaultRegistrations' | 'agentModel'>;
}

async function main(argv: string[], options: CliOptions): Promise<number> {
  if (argv[0] !== undefined && CLIENT_COMMANDS.has(argv[0])) return runClientCommand(argv, clientIo());
  const command = argv[0] !== undefined && !argv[0].startsWith('-') ? argv[0] : 'serve';
  const rest = command === argv[0] ? argv.slice(1) : argv;
  if (!COMMANDS.has(command)) {
    process.stderr.write(`Unknown command "${command}".\n\n${USAGE}`);
    return 2;
  }
  let parsed: ReturnType<typeof parseCommandArgs>;
  try {
    parsed = parseCommandArgs(command, rest);
  } catch (error) {
    process.stderr.write(`agent-registry: ${messageOf(error)}\n\n${USAGE}`);
    return 2;
  }
  const { values } = parsed;
  if (values.help) {
    process.stdout.write(command === 'export' ? (CLIENT_HELP.export ?? USAGE) : USAGE);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (command === 'export') {
    if (values.url !== undefined && values.storage) {
      process.stderr.write('agent-registry: export takes --url or --storage, not both\n');
      return 2;
    }
    const url = values.url ?? (process.env.REGISTRY_URL || undefined);
    if (url !== undefined && !values.storage) return exportFromService(url, clientIo());
  }
  // The service and storage modules load only for the commands that use them: a client command starts fast.
  const [{ loadConfig }, { createLogger }, { exportRegistry, initializeStorage, runService, SESSIONS_DB }] =
    await Promise.all([import('./config.js'), import('./logger.js'), import('./main.js')]);
  const config = loadConfig(process.env, { isTty: process.stdout.isTTY === true });
  switch (command) {
    case 'serve':
      await runService(config, options.service);
      return -1; // keep running until a signal
    case 'db-init': {
      process.stdout.write(`${JSON.stringify(await initializeStorage(config), null, 2)}\n`);
      return 0;
    }
    case 'export': {
      const { document, problems } = await exportRegistry(config);
      for (const problem of problems) process.stderr.write(`agent-registry: ${problem}\n`);
      process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
      return 0;
    }
    case 'move-to-postgres': {
      const url = values.to ?? config.databaseUrl;
      if (url === undefined) {
        process.stderr.write(
          'agent-registry: move-to-postgres needs --to postgres://... (or DATABASE_URL)\n',
        );
        return 2;
      }
      const { moveToPostgres } = await import('./move-to-postgres.js');
      const logger = createLogger({ level: config.logLevel, format: config.logFormat });
      const report = await moveToPostgres({
        dataDir: config.dataDir,
        sessionsFile: SESSIONS_DB,
        url,
        logger,
      });
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return 0;
    }
    case 'repair': {
      if (config.databaseUrl !== undefined) {
        process.stdout.write('The registry is on PostgreSQL (DATABASE_URL): there are no files to repair.\n');
        return 0;
      }
      const [{ FileStore }, { applyRepair, describePlan, planRepair }] = await Promise.all([
        import('./registry/file-store.js'),
        import('./registry/registry-repair.js'),
      ]);
      const store = new FileStore({ dataDir: config.dataDir });
      const files = values.file?.map((file) => path.resolve(file));
      const plan = values.apply
        ? await applyRepair(store, files)
        : await planRepair(store, (await store.inspect()).document, files);
      process.stdout.write(
        values.json ? `${JSON.stringify(plan, null, 2)}\n` : describePlan(plan, values.apply === true),
      );
      return 0;
    }
    default:
      return 2;
  }
}

function parseCommandArgs(command: string, args: string[]) {
  return parseArgs({
    args,
    allowPositionals: false,
    options: {
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
      ...(command === 'repair' && {
        apply: { type: 'boolean' },
        json: { type: 'boolean' },
        file: { type: 'string', multiple: true },
      }),
      ...(command === 'move-to-postgres' && { to: { type: 'string' } }),
      ...(command === 'export' && { url: { type: 'string' }, storage: { type: 'boolean' } }),
    },
  }) as {
    values: {
      help?: boolean;
      version?: boolean;
      apply?: boolean;
      json?: boolean;
      file?: string[];
      to?: string;
      url?: string;
      storage?: boolean;
    };
  };
}

/** The process's streams and environment; SIGINT aborts the signal (a following command then exits 0). */
function clientIo(): CliIo {
  const interrupted = new AbortController();
  process.once('SIGINT', () => interrupted.abort());
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    signal: interrupted.signal,
  };
}

/** Run the command `argv` names and exit with its code (`serve` keeps running until a signal). */
export function runCli(argv: string[], options: CliOptions = {}): void {
  main(argv, options).then(
    (code) => {
      if (code >= 0) process.exit(code);
    },
    (error: unknown) => {
      process.stderr.write(`agent-registry: ${messageOf(error)}\n`);
      process.exit(1);
    },
  );
}

if (isMainModule(import.meta.url)) runCli(process.argv.slice(2));
