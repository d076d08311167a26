/**
 * The seed's integration scenarios with the stores on PostgreSQL (`DATABASE_URL`), a fresh database per stack.
 * They run once the service accepts DATABASE_URL; until then they are skipped with a notice saying so (and
 * when no PostgreSQL server is reachable, as every PostgreSQL suite is).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { messageOf } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { createService } from '../../src/main.js';
import { useTestPostgres } from '../support/postgres.js';
import { runScenarios } from './scenarios.js';
import type { Backend } from './stack.js';

const postgres = await useTestPostgres('integration');

/** Why the service cannot run on PostgreSQL here, or undefined when it can. */
async function unsupportedReason(): Promise<string | undefined> {
  if (!postgres.available) return 'no PostgreSQL server is reachable';
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'integration-probe-'));
  try {
    const config = loadConfig({
      DATA_DIR: dataDir,
      PORT: '0',
      DATABASE_URL: await postgres.createDatabase(),
    });
    const service = await createService(config, { logger: silentLogger() });
    await service.stop();
    return undefined;
  } catch (error) {
    return `the service refuses DATABASE_URL: ${messageOf(error)}`;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const reason = await unsupportedReason();
if (reason === undefined) {
  const backend: Backend = {
    name: 'postgresql',
    sessionBackend: 'postgresql',
    environment: async () => ({ DATABASE_URL: await postgres.createDatabase() }),
  };
  runScenarios(backend);
} else {
  console.warn(`SKIPPING the integration scenarios on PostgreSQL: ${reason}`);
  describe("the seed's integration scenarios (postgresql)", () => {
    it.skip(`skipped: ${reason}`, () => {});
  });
}
