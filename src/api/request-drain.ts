/**
 * @module api/request-drain
 * Graceful shutdown of an HTTP server: once draining, new requests are refused with `503 shutting_down`
 * (health and metrics still answer, so probes see the service go), and `drain()` resolves when every request
 * that was in flight when it began has been answered or abandoned by its client.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';

/** Answered while draining: liveness, readiness and metrics. */
const ALWAYS_ANSWERED = new Set(['/health', '/health/ready', '/metrics']);

export class RequestDrain {
  private draining = false;
  private readonly inFlight = new Set<ServerResponse>();

  /** Whether `drain()` has begun: readiness reports 503 from then on. */
  get shuttingDown(): boolean {
    return this.draining;
  }

  /** Requests being served right now. */
  get size(): number {
    return this.inFlight.size;
  }

  /** Count the server's requests from now on. */
  attach(server: Server): void {
    server.on('request', (_request: IncomingMessage, response: ServerResponse) => {
      this.inFlight.add(response);
      // 'close' follows both a finished response and a client that went away mid-request.
      response.once('close', () => this.inFlight.delete(response));
    });
  }

  /** Refuse new requests, and resolve once the requests in flight now are done. Idempotent. */
  async drain(): Promise<void> {
    this.draining = true;
    await Promise.all(
      [...this.inFlight].map(
        (response) =>
          new Promise<void>((resolve) => {
            if (!this.inFlight.has(response)) resolve();
            else response.once('close', () => resolve());
          }),
      ),
    );
  }

  /** A Fastify `onRequest` hook: while draining, everything but health and metrics gets 503. */
  refuseWhileDraining() {
    return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
      if (!this.draining || ALWAYS_ANSWERED.has(request.url.split('?')[0]!)) return;
      void reply.header('connection', 'close');
      throw new AppError(
        'shutting_down',
        'The service is shutting down: send the request to another replica, or again once it has restarted',
      );
    };
  }
}
