#!/usr/bin/env node
/**
 * @module cli
 * The `agent-registry` command: `serve` (the default) runs the service; `db-init` creates or migrates the
 * session database; `export` prints the registry file. Configuration comes from the environment.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from './config.js';
import { messageOf } from './errors.js';
import { createLogger } from './logger.js';
import { runService, SESSIONS_DB } from './main.js';
import { FileStore } from './registry/file-store.js';
import { initializeDatabase } from './sessions/db-init.js';
import { SERVICE_NAME, VERSION } from './version.js';

const USAGE = `${SERVICE_NAME} ${VERSION}

Usage: agent-registry [command]

Commands:
  serve      Run the service (default). Configured by environment variables: PORT, HOST, DATA_DIR,
             REGISTRY_ADMIN_TOKEN, AGENT_FACTORY_ROOTS, CORS_ORIGINS, GOOGLE_API_KEY, ... (see README).
  db-init    Create the session database in DATA_DIR, or apply pending migrations, and exit.
  export     Print the registry (registry_config.json format) to stdout and exit.

Options:
  -h, --help      Show this help.
  -v, --version   Show the version.
`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' } },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const command = positionals[0] ?? 'serve';
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
      const store = new FileStore({ dataDir: config.dataDir });
      await store.open();
      try {
        const { document } = await store.load();
        process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
      } finally {
        await store.close();
      }
      return 0;
    }
    default:
      process.stderr.write(`Unknown command "${command}".\n\n${USAGE}`);
      return 2;
  }
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
