/**
 * @module move-to-postgres
 * `agent-registry move-to-postgres`: copy an installation's registry file and SQLite sessions into a
 * PostgreSQL database, keeping every record, session id, timestamp, message and invocation as it was. It
 * holds the data-directory lock (the service must be stopped), changes nothing in DATA_DIR, and can run
 * again: what the database already holds is skipped, never overwritten.
 */
import path from 'node:path';
import { AppError } from './errors.js';
import { type Logger, silentLogger } from './logger.js';
import { openPostgresDatabase } from './postgres/postgres-database.js';
import { toPostgresError } from './postgres/postgres-error.js';
import type { PostgresPool, PostgresQueryable } from './postgres/postgres-pool.js';
import { encodeNullableText, encodeText } from './postgres/postgres-text.js';
import type { AgentRecord } from './registry/agent-record.js';
import { FileStore } from './registry/file-store.js';
import { PostgresRegistryStore } from './registry/postgres-registry-store.js';
import { SqliteSessionStore } from './sessions/sqlite-session-store.js';

export interface MoveOptions {
  dataDir: string;
  /** The session database's file name in `dataDir`. */
  sessionsFile: string;
  /** The target database. */
  url: string;
  logger?: Logger;
}

export interface MoveReport {
  database: string;
  agents: { copied: string[]; already_there: string[]; conflicting: string[] };
  sessions: { copied: number; already_there: number; messages: number; invocations: number };
}

/** Copy DATA_DIR's registry and sessions into the PostgreSQL database at `url` (migrating it first). */
export async function moveToPostgres(options: MoveOptions): Promise<MoveReport> {
  const logger = options.logger ?? silentLogger();
  const files = new FileStore({ dataDir: options.dataDir, logger });
  await files.open();
  let sessions: SqliteSessionStore | undefined;
  let pool: PostgresPool | undefined;
  try {
    // Read only: a file start-up would have to repair is refused here, so nothing in DATA_DIR moves.
    const inspected = await files.inspect();
    if (inspected.unusable.length > 0 || inspected.rejected.length > 0 || inspected.source === 'backup') {
      throw new AppError(
        'storage_error',
        `The registry in ${options.dataDir} needs recovery first (${[
          ...inspected.unusable,
          ...inspected.rejected.map((record) => `record ${record.name}: ${record.reason}`),
        ].join('; ')}): start and stop the service once, or run "agent-registry repair", then move again.`,
      );
    }
    sessions = await SqliteSessionStore.open(path.join(options.dataDir, options.sessionsFile), { logger });
    ({ pool } = await openPostgresDatabase(options.url, { logger }));
    const report: MoveReport = {
      database: pool.target,
      agents: await copyAgents(
        new PostgresRegistryStore(pool, { url: options.url, logger }),
        Object.values(inspected.document.agents),
      ),
      sessions: await copySessions(sessions, pool),
    };
    logger.info({ report }, 'copied the installation to PostgreSQL');
    return report;
  } finally {
    await sessions?.close();
    await pool?.end();
    await files.close();
  }
}

async function copyAgents(store: PostgresRegistryStore, records: readonly AgentRecord[]) {
  const present = new Map((await store.snapshot()).agents.map((agent) => [agent.record.name, agent.record]));
  const result: MoveReport['agents'] = { copied: [], already_there: [], conflicting: [] };
  for (const record of records) {
    const existing = present.get(record.name);
    if (existing === undefined) {
      await store.insert(record);
      result.copied.push(record.name);
    } else if (JSON.stringify(existing) === JSON.stringify(record)) {
      result.already_there.push(record.name);
    } else {
      result.conflicting.push(record.name);
    }
  }
  return result;
}

/** Each session in one transaction with its history, invocations and context, ids and timestamps kept. */
async function copySessions(source: SqliteSessionStore, pool: PostgresPool): Promise<MoveReport['sessions']> {
  const result: MoveReport['sessions'] = { copied: 0, already_there: 0, messages: 0, invocations: 0 };
  const ids: string[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await source.listSessions({ limit: 1000, offset });
    ids.push(...page.sessions.map((session) => session.session_id));
    if (page.sessions.length < 1000) break;
  }
  for (const id of ids) {
    const session = await source.getSession(id);
    const version = await source.getSessionVersion(id);
    const copied = await pool
      .transaction(async (db: PostgresQueryable) => {
        const inserted = await db.query(
          `INSERT INTO sessions (session_id, user_id, created_at, updated_at, status, metadata, version)
           VALUES ($1, $2, $3, $4, $5, $6::json, $7) ON CONFLICT (session_id) DO NOTHING`,
          [
            id,
            encodeText(session.user_id),
            session.created_at,
            session.updated_at,
            session.status,
            JSON.stringify(session.metadata),
            version,
          ],
        );
        if (inserted.rowCount === 0) return false;
        for (const message of session.conversation_history) {
          await db.query(
            'INSERT INTO conversation_history (session_id, role, content, timestamp) VALUES ($1, $2, $3, $4)',
            [id, message.role, encodeText(message.content), message.timestamp],
          );
        }
        for (const call of session.agents_invoked) {
          await db.query(
            `INSERT INTO agent_invocations (session_id, agent_name, query, response, success, error_message, duration_ms, timestamp)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
            [
              id,
              encodeText(call.agent_name),
              encodeText(call.query),
              encodeNullableText(call.response),
              call.success,
              encodeNullableText(call.error_message),
              call.duration_ms,
              call.timestamp,
            ],
          );
        }
        const { context } = session;
        if (context.updated_at !== null) {
          await db.query(
            `INSERT INTO session_context (session_id, last_agent_called, last_query, last_response, updated_at)
             VALUES ($1, $2, $3, $4, $5)`,
            [
              id,
              encodeNullableText(context.last_agent_called),
              encodeNullableText(context.last_query),
              encodeNullableText(context.last_response),
              context.updated_at,
            ],
          );
        }
        return true;
      })
      .catch((error: unknown) => {
        throw toPostgresError(error, `copy session ${id}`, pool.target);
      });
    if (copied) {
      result.copied++;
      result.messages += session.conversation_history.length;
      result.invocations += session.agents_invoked.length;
    } else {
      result.already_there++;
    }
  }
  return result;
}
