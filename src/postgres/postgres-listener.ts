/**
 * @module postgres/postgres-listener
 * LISTEN on one channel over a connection of its own (a pooled connection cannot hold a LISTEN), kept up:
 * when the connection is lost it reconnects with backoff, and says so, because notifications sent while it
 * was away are gone and the listener's owner must catch up another way.
 */
import pg from 'pg';
import { type Logger, silentLogger } from '../logger.js';
import { describePostgresUrl } from './postgres-pool.js';

export interface PostgresListenerOptions {
  /** A notification arrived on the channel (its payload). */
  onNotify(payload: string): void;
  /** The listener (re)connected: notifications may have been missed while it was down. */
  onConnect(): void;
  logger?: Logger;
  /** First and longest wait before reconnecting (default 100 ms, 5,000 ms). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export class PostgresListener {
  private client: pg.Client | undefined;
  private stopped = false;
  private backoff: number;
  private retry: NodeJS.Timeout | undefined;
  private lastError: string | undefined;
  private readonly logger: Logger;
  private readonly minBackoff: number;
  private readonly maxBackoff: number;

  constructor(
    private readonly url: string,
    /** A channel name as PostgreSQL stores it (case-sensitive; quoted in LISTEN). */
    readonly channel: string,
    private readonly options: PostgresListenerOptions,
  ) {
    this.logger = options.logger ?? silentLogger();
    this.minBackoff = options.minBackoffMs ?? 100;
    this.maxBackoff = options.maxBackoffMs ?? 5000;
    this.backoff = this.minBackoff;
  }

  /** Whether the LISTEN connection is up now. */
  get connected(): boolean {
    return this.client !== undefined;
  }

  get error(): string | undefined {
    return this.lastError;
  }

  /** Connect and LISTEN; resolves after the first attempt (a failed one keeps retrying in the background). */
  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({
      connectionString: this.url,
      keepAlive: true,
      application_name: 'agent-registry-listen',
    });
    let lost = false;
    const onLost = (error?: Error) => {
      if (lost) return;
      lost = true;
      if (this.client === client) this.client = undefined;
      if (this.stopped) return;
      this.lastError = error?.message ?? 'the connection ended';
      this.logger.warn(
        { err: error, database: describePostgresUrl(this.url), channel: this.channel },
        'lost the PostgreSQL LISTEN connection; reconnecting',
      );
      client.end().catch(() => {});
      this.scheduleReconnect();
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', (message) => {
      if (message.channel === this.channel) this.options.onNotify(message.payload ?? '');
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel.replaceAll('"', '""')}"`);
    } catch (error) {
      onLost(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.lastError = undefined;
    this.backoff = this.minBackoff;
    this.options.onConnect();
  }

  private scheduleReconnect(): void {
    clearTimeout(this.retry);
    this.retry = setTimeout(() => void this.connect(), this.backoff);
    this.retry.unref();
    this.backoff = Math.min(this.backoff * 2, this.maxBackoff);
  }
}
