/**
 * @module api/base-app
 * The Fastify instance an HTTP server of the product starts from: JSON-only bodies parsed without prototype
 * pollution, strict TypeBox validation, the service's one error handler, request ids and security headers.
 */
import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { type TypeBoxTypeProvider, TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyRequest, LogController } from 'fastify';
import { type Config, isLoopbackHost } from '../config.js';
import { AppError, messageOf } from '../errors.js';
import type { Logger } from '../logger.js';
import { parseJsonSafely, UnsafeJsonError } from '../safe-json.js';
import { errorHandler, notFoundHandler } from './error-handler.js';
import { type RateLimits, rateLimitHook } from './rate-limit.js';
import type { RequestDrain } from './request-drain.js';

export interface BaseAppOptions {
  logger: Logger;
  /** Maximum request body in bytes. */
  bodyLimit: number;
  /** A request not fully received by then is answered 408 and closed (default 30 s). */
  requestTimeoutMs?: number;
  /** A request whose headers are not all received by then is answered 408 and closed (default 10 s). */
  headersTimeoutMs?: number;
  /** Connections beyond this many are refused at once (default 1024). */
  maxConnections?: number;
  /**
   * Answer only requests whose `Host` names this machine's loopback (or `boundHost`) on the port they came
   * in on: a token-less service on loopback is then out of reach of DNS-rebinding pages.
   */
  hostCheck?: { boundHost: string };
  /** Per-client budgets for changes and routing (`429 rate_limited` beyond them); none when unset. */
  rateLimits?: RateLimits;
  /** Counts requests in flight and refuses new ones once draining (graceful shutdown). */
  drain?: RequestDrain;
}

/**
 * The HTTP server's limits from the config. On loopback without a token, the `Host` check keeps
 * DNS-rebinding pages from driving the server through a victim's browser.
 */
export function httpOptions(
  config: Pick<
    Config,
    | 'host'
    | 'httpRequestTimeoutMs'
    | 'httpHeadersTimeoutMs'
    | 'httpMaxConnections'
    | 'rateLimitWritesPerMinute'
    | 'rateLimitRoutingPerMinute'
  >,
  tokenRequired: boolean,
): Pick<
  BaseAppOptions,
  'requestTimeoutMs' | 'headersTimeoutMs' | 'maxConnections' | 'hostCheck' | 'rateLimits'
> {
  return {
    requestTimeoutMs: config.httpRequestTimeoutMs,
    headersTimeoutMs: config.httpHeadersTimeoutMs,
    maxConnections: config.httpMaxConnections,
    rateLimits: {
      writesPerMinute: config.rateLimitWritesPerMinute,
      routingPerMinute: config.rateLimitRoutingPerMinute,
    },
    ...(isLoopbackHost(config.host) && !tokenRequired && { hostCheck: { boundHost: config.host } }),
  };
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_CONNECTIONS = 1024;

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** Methods whose bodies we never read: an empty body with a JSON content type is not an error there. */
const BODYLESS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS']);

export function createBaseApp(options: BaseAppOptions) {
  const requestTimeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const headersTimeout = Math.min(options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS, requestTimeout);
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimit,
    // A client that stalls mid-request is cut off; Node checks at `connectionsCheckingInterval`.
    requestTimeout,
    http: {
      headersTimeout,
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(headersTimeout / 2))),
    },
    // Honour a caller's request id (so one id follows a request across services), else make one.
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    logController: new LogController({ requestIdLogLabel: 'request_id' }),
    routerOptions: { ignoreTrailingSlash: true },
    // Requests that arrive while closing are refused by the drain hook below, in the service's error shape.
    return503OnClosing: options.drain === undefined,
    // Errors raised before routing (a URL that is not valid percent-encoding) get the same handler...
    frameworkErrors: (error, request, reply) => errorHandler(error, request, reply),
    // ...and so do requests Node cannot even parse (bad framing, a body shorter than its Content-Length).
    clientErrorHandler: (error, socket) => answerClientError(error, socket, options.logger),
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Body validation is strict (no coercion, no silently dropped fields); query and path params are converted.
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    if (text.trim() === '') {
      if (BODYLESS.has(request.method)) return done(null, undefined);
      return done(new AppError('validation_error', 'Request body is empty: send a JSON object'), undefined);
    }
    try {
      done(null, parseJsonSafely(text));
    } catch (error) {
      const reason = error instanceof UnsafeJsonError ? 'refused' : 'is not valid JSON';
      done(new AppError('validation_error', `Request body ${reason}: ${messageOf(error)}`), undefined);
    }
  });

  app.server.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  closeQuietConnectionsOnClose(app.server);

  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  const { drain } = options;
  if (drain !== undefined) {
    drain.attach(app.server);
    app.addHook('onRequest', drain.refuseWhileDraining());
  }
  const { hostCheck } = options;
  if (hostCheck !== undefined) {
    app.addHook('onRequest', async (request) => {
      const host = request.headers.host;
      if (!isLocalHost(host, request.socket.localPort, hostCheck.boundHost)) {
        throw new AppError(
          'misdirected_request',
          `Host "${host}" is not this service: without a token it answers only requests addressed to ` +
            'localhost or a loopback address on its own port (DNS-rebinding protection)',
        );
      }
    });
  }
  if (options.rateLimits !== undefined) app.addHook('onRequest', rateLimitHook(options.rateLimits));
  app.addHook('onSend', async (request: FastifyRequest, reply, payload) => {
    void reply.header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer');
    if (!request.url.startsWith('/docs')) void reply.header('x-frame-options', 'DENY');
    return payload;
  });
  return app;
}

export type BaseApp = ReturnType<typeof createBaseApp>;

/**
 * Whether a `Host` header addresses this machine's loopback (`localhost`, `*.localhost`, 127.0.0.0/8, `[::1]`)
 * or `boundHost`, on `localPort` (no port means 80). A request without `Host` (HTTP/1.0 tools) is not from a
 * browser, so it cannot be a rebinding attack and is allowed.
 */
export function isLocalHost(
  header: string | undefined,
  localPort: number | undefined,
  boundHost: string,
): boolean {
  if (header === undefined) return true;
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d{1,5}))?$/.exec(header.trim().toLowerCase());
  if (match === null) return false;
  const name = match[1]!.replace(/^\[(.*)\]$/, '$1');
  const port = match[2] === undefined ? 80 : Number(match[2]);
  if (localPort !== undefined && port !== localPort) return false;
  const bound = boundHost.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return name === bound || name.endsWith('.localhost') || isLoopbackHost(name);
}

/**
 * On close, in-flight requests finish and every other connection is closed: idle keep-alive ones, and also
 * ones that were opened but never sent a request (a client's spare connection, a TCP probe). Node's own
 * `closeIdleConnections` leaves those open, and `close()` stops the timer that would have timed them out,
 * so without this a single silent connection would hold a graceful shutdown forever.
 */
function closeQuietConnectionsOnClose(server: Server): void {
  const inFlight = new Map<Socket, number>();
  let closing = false;
  server.on('connection', (socket: Socket) => {
    inFlight.set(socket, 0);
    socket.once('close', () => inFlight.delete(socket));
  });
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const socket = request.socket;
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    response.once('close', () => {
      const left = (inFlight.get(socket) ?? 1) - 1;
      inFlight.set(socket, left);
      if (closing && left === 0) socket.destroy();
    });
  });
  const close = server.close.bind(server);
  server.close = ((callback?: (error?: Error) => void) => {
    closing = true;
    const result = close(callback);
    for (const [socket, requests] of inFlight) if (requests === 0) socket.destroy();
    return result;
  }) as typeof server.close;
}

/** Node's `clientError`: answer in the product's error shape, then close the connection (as Node does). */
export function answerClientError(error: Error & { code?: string }, socket: Socket, logger: Logger): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? ([408, 'timeout', 'The request was not received in time'] as const)
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? ([431, 'validation_error', 'Request headers are too large'] as const)
        : ([400, 'validation_error', `Malformed HTTP request (${error.code ?? error.message})`] as const);
  logger.debug({ err: error }, 'malformed HTTP request');
  if (socket.writable) {
    const body = JSON.stringify({ error: { code, message } });
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
