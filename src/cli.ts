#!/usr/bin/env node
/**
 * @module cli
 * The `agent-registry` command: `serve` (the default) runs the service; `db-init` creates or migrates the
 * session database; `export` prints the registry file; `repair` shows and restores what start-up set aside.
 * Configuration comes from the environment. Exit codes: 0 success, 1 failure, 2 usage error.
 * Run directly, it is the bare core (no default agents); the project's entry point
 * (`jarvis_agent/service-cli.ts`, what `npm start`, the package's bin and the image run) calls
 * {@link runCli} with the demo agents and the offline model.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from './config.js';
import { messageOf } from './errors.js';
import { isMainModule } from './is-main-module.js';
import { createLogger } from './logger.js';
import { exportRegistry, initializeStorage, runService, SESSIONS_DB, type ServiceOptions } from './main.js';
import { moveToPostgres } from './move-to-postgres.js';
import { FileStore } from './registry/file-store.js';
import { applyRepair, describePlan, planRepair } from './registry/registry-repair.js';
import { SERVICE_NAME, VERSION } from './version.js';

const USAGE = `${SERVICE_NAME} ${VERSION}

Usage: agent-registry [command] [options]

Commands:
  serve      Run the service (default). Configured by environment variables: PORT, HOST, DATA_DIR,
             REGISTRY_ADMIN_TOKEN, AGENT_FACTORY_ROOTS, CORS_ORIGINS, GOOGLE_API_KEY, ... (see README).
  db-init    Create the database (DATA_DIR/sessions.db, or DATABASE_URL's), or apply pending migrations,
             and exit. On SQLite it refuses while a service holds DATA_DIR.
  export     Print the registry (registry_config.json format) to stdout and exit; reads only, safe while
             the service runs, from DATA_DIR or DATABASE_URL.
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
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
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
    },
  }) as {
    values: {
      help?: boolean;
      version?: boolean;
      apply?: boolean;
      json?: boolean;
      file?: string[];
      to?: string;
    };
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
