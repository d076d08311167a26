/**
 * @module api/base-app
 * The Fastify instance an HTTP server of the product starts from: JSON-only bodies parsed without prototype
 * pollution, strict TypeBox validation, the service's one error handler, request ids and security headers.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { type TypeBoxTypeProvider, TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyRequest, LogController } from 'fastify';
import { AppError, messageOf } from '../errors.js';
import type { Logger } from '../logger.js';
import { parseJsonSafely, UnsafeJsonError } from '../safe-json.js';
import { errorHandler, notFoundHandler } from './error-handler.js';

export interface BaseAppOptions {
  logger: Logger;
  /** Maximum request body in bytes. */
  bodyLimit: number;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** Methods whose bodies we never read: an empty body with a JSON content type is not an error there. */
const BODYLESS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS']);

export function createBaseApp(options: BaseAppOptions) {
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimit,
    // Honour a caller's request id (so one id follows a request across services), else make one.
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    logController: new LogController({ requestIdLogLabel: 'request_id' }),
    routerOptions: { ignoreTrailingSlash: true },
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

  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  app.addHook('onSend', async (request: FastifyRequest, reply, payload) => {
    void reply.header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer');
    if (!request.url.startsWith('/docs')) void reply.header('x-frame-options', 'DENY');
    return payload;
  });
  return app;
}

export type BaseApp = ReturnType<typeof createBaseApp>;

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
