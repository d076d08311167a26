/**
 * @module api/admin-auth
 * Bearer-token check for mutating registry calls. With no token configured (loopback only, enforced by
 * config) every caller is allowed. Tokens are compared in constant time, lengths included.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';

/** A Fastify `onRequest` hook that requires `Authorization: Bearer <token>` when `token` is set. */
export function requireAdminToken(token: string | undefined) {
  if (token === undefined) return async (): Promise<void> => {};
  const expected = digest(token);
  return async (request: FastifyRequest): Promise<void> => {
    const header = request.headers.authorization;
    const match = /^Bearer[ \t]+(\S+)\s*$/i.exec(header ?? '');
    if (match === null) {
      throw new AppError(
        'unauthorized',
        header === undefined
          ? 'This call changes the registry: send Authorization: Bearer <REGISTRY_ADMIN_TOKEN>'
          : 'Authorization header must be "Bearer <token>"',
      );
    }
    if (!timingSafeEqual(digest(match[1]!), expected)) {
      throw new AppError('unauthorized', 'The bearer token is not valid');
    }
  };
}

/** Hash first so the comparison takes the same time whatever the lengths. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
