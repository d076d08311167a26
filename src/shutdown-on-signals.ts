/**
 * @module shutdown-on-signals
 * Graceful stop on SIGTERM or SIGINT, shared by the service and the orchestrator: in-flight requests finish,
 * then the process exits 0; it exits 1 when stopping fails or takes longer than the timeout.
 */
import { messageOf } from './errors.js';
import type { Logger } from './logger.js';

/** Shutdown gives in-flight requests this long before the process exits anyway. */
export const SHUTDOWN_TIMEOUT_MS = 10_000;

export interface Stoppable {
  readonly logger: Logger;
  stop(): Promise<void>;
}

export function shutdownOnSignals(target: Stoppable, timeoutMs: number = SHUTDOWN_TIMEOUT_MS): void {
  const shutdown = (signal: NodeJS.Signals) => {
    target.logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      target.logger.error(`shutdown did not finish within ${timeoutMs} ms; exiting`);
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    target.stop().then(
      () => {
        target.logger.info('stopped');
        target.logger.flush();
        process.exit(0);
      },
      (error: unknown) => {
        target.logger.error({ err: error }, `shutdown failed: ${messageOf(error)}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}
