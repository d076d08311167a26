/**
 * @module api/error-handler
 * The one place errors become HTTP responses: `{"error": {"code", "message"}}`. `AppError`s map by code;
 * Fastify's own errors (validation, body too large, wrong content type) get our codes; anything else is
 * logged with its stack and answered with a bare 500 that names only the request id.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode } from '../errors.js';
import { describeIssues } from '../schema-validator.js';

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

/** Fastify error codes we answer with our own codes and messages. */
const FASTIFY_ERRORS: Record<string, (error: FastifyError, request: FastifyRequest) => AppError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: (_error, request) =>
    new AppError(
      'payload_too_large',
      `Request body is larger than the ${formatBytes(request.routeOptions.bodyLimit ?? 0)} limit`,
    ),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: (_error, request) =>
    new AppError(
      'unsupported_media_type',
      `Content-Type ${request.headers['content-type'] ?? '(none)'} is not supported: send JSON with Content-Type: application/json`,
    ),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () =>
    new AppError('validation_error', 'Content-Length does not match the body that was sent'),
};

/** Turn any thrown value into an `AppError` fit to send (500s carry no detail). */
export function toAppError(error: unknown, request: FastifyRequest): AppError {
  if (error instanceof AppError) return error;
  const fastifyError = error as FastifyError;
  if (Array.isArray(fastifyError.validation)) {
    const where = fastifyError.validationContext ?? 'request';
    const issues = describeIssues(fastifyError.validation as never);
    const text = issues.map((issue) => `${issue.path || '(root)'} ${issue.message}`).join('; ');
    return new AppError('validation_error', `Invalid ${where}: ${text}`, { details: issues });
  }
  const mapped = fastifyError.code === undefined ? undefined : FASTIFY_ERRORS[fastifyError.code];
  if (mapped !== undefined) return mapped(fastifyError, request);
  if (
    typeof fastifyError.statusCode === 'number' &&
    fastifyError.statusCode >= 400 &&
    fastifyError.statusCode < 500
  ) {
    return new AppError(
      fastifyError.statusCode === 404 ? 'not_found' : 'validation_error',
      fastifyError.message,
    );
  }
  return new AppError('internal_error', `Internal server error (request id ${request.id})`, { cause: error });
}

export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const appError = toAppError(error, request);
  if (appError.status >= 500) {
    request.log.error({ err: appError.cause ?? error, code: appError.code }, 'request failed');
  } else {
    request.log.info({ code: appError.code, message: appError.message }, 'request refused');
  }
  if (appError.code === 'unauthorized') reply.header('www-authenticate', 'Bearer realm="agent-registry"');
  const body: ErrorBody = { error: { code: appError.code, message: safeMessage(appError.message) } };
  void reply.code(appError.status).send(body);
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  errorHandler(
    new AppError(
      'not_found',
      `No route ${request.method} ${request.url.split('?')[0]}; see /docs for the API`,
    ),
    request,
    reply,
  );
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0
    ? `${bytes / (1024 * 1024)} MiB`
    : `${bytes} bytes`;
}

/** The longest message an error body carries. */
export const MAX_ERROR_MESSAGE_LENGTH = 1000;

/** C0/C1 controls, line separators and bidirectional formatting characters: escaped in messages. */
function isUnsafeCharacter(code: number): boolean {
  return (
    code <= 0x1f ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x061c ||
    code === 0x200e ||
    code === 0x200f ||
    code === 0x2028 ||
    code === 0x2029 ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

/**
 * Messages echo input (names, keys, headers): escape what could forge log lines or reorder text on screen,
 * and cut what would make an error larger than the request that caused it.
 */
export function safeMessage(message: string): string {
  let escaped = '';
  for (let i = 0; i < message.length; i++) {
    const code = message.charCodeAt(i);
    escaped += isUnsafeCharacter(code) ? `\\u${code.toString(16).padStart(4, '0')}` : message[i];
  }
  if (escaped.length <= MAX_ERROR_MESSAGE_LENGTH) return escaped;
  const cut = escaped.slice(0, MAX_ERROR_MESSAGE_LENGTH);
  // Never end on half a surrogate pair.
  const end = /[\ud800-\udbff]$/.test(cut) ? cut.slice(0, -1) : cut;
  return `${end}… (${escaped.length - end.length} more characters)`;
}
