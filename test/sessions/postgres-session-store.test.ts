import { describe } from 'vitest';
import { PostgresSessionStore } from '../../src/sessions/postgres-session-store.js';
import { useTestPostgres } from '../support/postgres.js';
import { describeSessionStoreContract } from './session-store.contract.js';

const postgres = await useTestPostgres('postgres-session-store');

describe.skipIf(!postgres.available)('PostgresSessionStore', () => {
  describeSessionStoreContract('PostgreSQL', async ({ now }) => ({
    store: await PostgresSessionStore.open(await postgres.schema(), { now }),
    dispose: async () => {},
  }));
});
