#!/usr/bin/env node
/**
 * @module cli
 * The `agent-registry` command: `serve` (the default) runs the service; `db-init` creates or migrates the
 * session database; `export` prints the registry file; `repair` shows and restores what start-up set aside.
 * Configuration comes from the environment. Exit codes: 0 success, 1 failure, 2 usage error.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from './config.js';
import { messageOf } from './errors.js';
import { createLogger } from './logger.js';
import { runService, SESSIONS_DB } from './main.js';
import { FileStore } from './registry/file-store.js';
import { applyRepair, describePlan, planRepair } from './registry/registry-repair.js';
import { initializeDatabase } from './sessions/db-init.js';
import { SERVICE_NAME, VERSION } from './version.js';

const USAGE = `${SERVICE_NAME} ${VERSION}

Usage: agent-registry [command] [options]

Commands:
  serve      Run the service (default). Configured by environment variables: PORT, HOST, DATA_DIR,
             REGISTRY_ADMIN_TOKEN, AGENT_FACTORY_ROOTS, CORS_ORIGINS, GOOGLE_API_KEY, ... (see README).
  db-init    Create the session database in DATA_DIR, or apply pending migrations, and exit.
  export     Print the registry (registry_config.json format) to stdout and exit.
  repair     Show what start-up set aside in DATA_DIR (unusable files, records that failed validation),
             record by record. Changes nothing unless --apply is given.
               --apply        restore the valid records into the registry (the service must be stopped)
               --file <path>  look at this file instead of every set-aside file (repeatable)
               --json         print the plan as JSON

Options:
  -h, --help      Show this help.
  -v, --version   Show the version.
`;

const COMMANDS = new Set(['serve', 'db-init', 'export', 'repair']);

async function main(argv: string[]): Promise<number> {
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
      await runService(config);
      return -1; // keep running until a signal
    case 'db-init': {
      const logger = createLogger({ level: config.logLevel, format: config.logFormat });
      const report = await initializeDatabase(path.join(config.dataDir, SESSIONS_DB), {
        synchronous: config.sqliteSynchronous,
        logger,
      });
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return 0;
    }
    case 'export': {
      // Reads only, without the lock: safe while a service runs, and it never moves a bad file aside.
      const { document, unusable } = await new FileStore({ dataDir: config.dataDir }).inspect();
      for (const problem of unusable) process.stderr.write(`agent-registry: unusable: ${problem}\n`);
      process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
      return 0;
    }
    case 'repair': {
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
    },
  }) as { values: { help?: boolean; version?: boolean; apply?: boolean; json?: boolean; file?: string[] } };
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`agent-registry: ${messageOf(error)}\n`);
    process.exit(1);
  },
);
