import { connect } from 'node:net';
import { PassThrough } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { answerClientError } from '../../src/api/base-app.js';
import { toAppError } from '../../src/api/error-handler.js';
import { AppError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { startService } from '../support/service.js';

const request = { id: 'req-1', headers: {}, routeOptions: { bodyLimit: 2048 } } as unknown as FastifyRequest;
const fastifyError = (fields: Record<string, unknown>) =>
  Object.assign(new Error(String(fields.message ?? 'x')), fields);

describe('toAppError', () => {
  it('keeps AppErrors as they are', () => {
    const error = new AppError('agent_exists', 'taken');
    expect(toAppError(error, request)).toBe(error);
  });

  it('names the failing fields of a schema validation error', () => {
    const error = fastifyError({
      validation: [{ keyword: 'type', instancePath: '/enabled', message: 'must be boolean', params: {} }],
      validationContext: 'body',
    });
    expect(toAppError(error, request)).toMatchObject({
      code: 'validation_error',
      message: 'Invalid body: /enabled must be boolean',
    });
    const noContext = fastifyError({
      validation: [{ keyword: 'type', instancePath: '', message: 'must be object', params: {} }],
    });
    expect(toAppError(noContext, request).message).toBe('Invalid request: (root) must be object');
  });

  it('maps Fastify body errors to our codes', () => {
    expect(
      toAppError(fastifyError({ code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }), request),
    ).toMatchObject({
      code: 'payload_too_large',
      message: 'Request body is larger than the 2048 bytes limit',
    });
    expect(
      toAppError(fastifyError({ code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 }), request).message,
    ).toBe('Content-Type (none) is not supported: send JSON with Content-Type: application/json');
    expect(
      toAppError(fastifyError({ code: 'FST_ERR_CTP_INVALID_CONTENT_LENGTH', statusCode: 400 }), request).code,
    ).toBe('validation_error');
  });

  it('keeps other client errors as 400 or 404 with their message, and hides everything else behind a bare 500', () => {
    expect(toAppError(fastifyError({ statusCode: 404, message: 'gone' }), request)).toMatchObject({
      code: 'not_found',
      message: 'gone',
    });
    expect(toAppError(fastifyError({ statusCode: 400, message: 'bad url' }), request)).toMatchObject({
      code: 'validation_error',
      message: 'bad url',
    });
    const hidden = toAppError(fastifyError({ statusCode: 502, message: 'secret upstream detail' }), request);
    expect(hidden).toMatchObject({
      code: 'internal_error',
      message: 'Internal server error (request id req-1)',
    });
    expect(toAppError('a thrown string', request).code).toBe('internal_error');
  });
});

/** Send `text` as is (`HOST` stands for the service's own host and port) and read until the server closes. */
function rawRequest(url: string, text: string): Promise<string> {
  const { hostname, port, host } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(text.replaceAll('HOST', host)));
    let received = '';
    socket.on('data', (chunk) => {
      received += String(chunk);
    });
    socket.on('end', () => resolve(received));
    socket.on('error', reject);
  });
}

describe('malformed HTTP requests', () => {
  it('answers a body shorter than its Content-Length with a JSON 400', async () => {
    const { url } = await startService();
    const response = await rawRequest(
      url,
      'POST /sessions HTTP/1.1\r\nHost: HOST\r\nContent-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{"user_id":"a"}',
    );
    expect(response).toMatch(/^HTTP\/1\.1 400/);
    expect(response).toContain('"code":"validation_error"');
  });

  it('answers headers over the size limit with a JSON 431', async () => {
    const { url } = await startService();
    const response = await rawRequest(
      url,
      `GET / HTTP/1.1\r\nHost: HOST\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expect(response).toMatch(/^HTTP\/1\.1 431/);
    expect(response).toContain(
      '{"error":{"code":"validation_error","message":"Request headers are too large"}}',
    );
  });

  it('answers a request that timed out with a JSON 408, and leaves a reset connection alone', () => {
    const written: string[] = [];
    const socket = Object.assign(new PassThrough(), { destroyed: false });
    socket.on('data', (chunk) => written.push(String(chunk)));
    socket.on('error', () => {});
    answerClientError(
      Object.assign(new Error('timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }),
      socket as never,
      silentLogger(),
    );
    expect(written.join('')).toMatch(/^HTTP\/1\.1 408 Request Timeout[\s\S]*"code":"timeout"/);
    const reset = Object.assign(new PassThrough(), { destroyed: false });
    answerClientError(
      Object.assign(new Error('reset'), { code: 'ECONNRESET' }),
      reset as never,
      silentLogger(),
    );
    expect(reset.writableLength).toBe(0);
    expect(reset.destroyed).toBe(false);
  });

  it('answers a URL that is not valid percent-encoding with a JSON 400', async () => {
    const { url } = await startService();
    const response = await rawRequest(
      url,
      'GET /registry/agents/%E0%A4%A HTTP/1.1\r\nHost: HOST\r\nConnection: close\r\n\r\n',
    );
    expect(response).toMatch(/^HTTP\/1\.1 400/);
    expect(response).toContain('"code":"validation_error"');
  });
});

describe('safeMessage', () => {
  it('escapes controls, separators and bidi marks, and cuts long messages without splitting a pair', async () => {
    const { safeMessage, MAX_ERROR_MESSAGE_LENGTH } = await import('../../src/api/error-handler.js');
    expect(safeMessage('a\u0000b\u007fc\u0085d\u061ce\u200ef\u2028g\u202eh\u2069i')).toBe(
      'a\\u0000b\\u007fc\\u0085d\\u061ce\\u200ef\\u2028g\\u202eh\\u2069i',
    );
    expect(safeMessage('plain ✓ 😀')).toBe('plain ✓ 😀');
    const pairAtTheCut = `${'x'.repeat(MAX_ERROR_MESSAGE_LENGTH - 1)}😀tail`;
    expect(safeMessage(pairAtTheCut)).toBe(
      `${'x'.repeat(MAX_ERROR_MESSAGE_LENGTH - 1)}… (6 more characters)`,
    );
  });
});

describe('isLocalHost', () => {
  it.each([
    ['localhost:8003', 8003, '127.0.0.1', true],
    ['127.0.0.1:8003', 8003, '127.0.0.1', true],
    ['127.1.2.3:8003', 8003, '127.0.0.1', true],
    ['[::1]:8003', 8003, '::1', true],
    ['app.localhost:8003', 8003, '127.0.0.1', true],
    ['localhost', 80, '127.0.0.1', true],
    ['localhost', 8003, '127.0.0.1', false],
    ['localhost:8004', 8003, '127.0.0.1', false],
    ['evil.com:8003', 8003, '127.0.0.1', false],
    ['localhost.evil.com:8003', 8003, '127.0.0.1', false],
    ['[::1', 8003, '::1', false],
    ['a:b:c', 8003, '127.0.0.1', false],
    [undefined, 8003, '127.0.0.1', true],
    ['localhost:1234', undefined, '127.0.0.1', true],
  ] as const)('%s on port %s (bound %s) -> %s', async (header, port, bound, expected) => {
    const { isLocalHost } = await import('../../src/api/base-app.js');
    expect(isLocalHost(header, port, bound)).toBe(expected);
  });
});
