/**
 * @module api/admin-auth
 * Bearer tokens, the one place requests are authenticated: the admin token guards registry changes, the API
 * token guards sessions (and Jarvis's `/chat`), the read token guards registry reads, routing and metrics.
 * A guard whose token is not configured lets every caller through (config allows that on loopback only).
 * Tokens are compared in constant time, lengths included, and never appear in a message or a log line.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';

/** A Fastify `onRequest` hook. */
export type TokenGuard = (request: FastifyRequest) => Promise<void>;

export interface AccessTokens {
  /** REGISTRY_ADMIN_TOKEN: registry changes; it also grants reads. */
  adminToken?: string | undefined;
  /** REGISTRY_API_TOKEN: every `/sessions` call, and `/chat`. */
  apiToken?: string | undefined;
  /** REGISTRY_READ_TOKEN: registry reads, routing and `/metrics`. */
  readToken?: string | undefined;
}

/** The guards of one service, built once from its tokens. */
export interface AccessControl {
  admin: TokenGuard;
  api: TokenGuard;
  read: TokenGuard;
  /**
   * The routing decision log holds users' queries, so it needs what reads users' data: the admin token or
   * the API token; only when neither is configured does it fall back to the read guard.
   */
  decisions: TokenGuard;
}

export function accessControl(tokens: AccessTokens): AccessControl {
  const read = requireToken(
    tokens.readToken,
    [tokens.adminToken],
    'Registry reads need Authorization: Bearer <REGISTRY_READ_TOKEN> (or the admin token)',
  );
  const userData = [tokens.adminToken, tokens.apiToken].filter((token) => token !== undefined);
  return {
    admin: requireAdminToken(tokens.adminToken),
    api: requireToken(
      tokens.apiToken,
      [],
      'Sessions and chats need Authorization: Bearer <REGISTRY_API_TOKEN>',
    ),
    // Whoever may change the registry may read it.
    read,
    decisions:
      userData.length === 0
        ? read
        : requireToken(
            userData[0],
            userData.slice(1),
            'The routing decision log holds user queries: send Authorization: Bearer <REGISTRY_ADMIN_TOKEN> ' +
              '(or REGISTRY_API_TOKEN)',
          ),
  };
}

/** A Fastify `onRequest` hook that requires `Authorization: Bearer <token>` when `token` is set. */
export function requireAdminToken(token: string | undefined): TokenGuard {
  return requireToken(
    token,
    [],
    'This call changes the registry: send Authorization: Bearer <REGISTRY_ADMIN_TOKEN>',
  );
}

/**
 * Require `Authorization: Bearer <token>` (or one of `alsoAccepted`) when `token` is set; `missing` is the
 * message for a request without the header, naming the variable whose value to send.
 */
export function requireToken(
  token: string | undefined,
  alsoAccepted: readonly (string | undefined)[],
  missing: string,
): TokenGuard {
  if (token === undefined) return async () => {};
  const expected = [token, ...alsoAccepted].filter((value) => value !== undefined).map(digest);
  return async (request) => {
    const header = request.headers.authorization;
    const match = /^Bearer[ \t]+(\S+)\s*$/i.exec(header ?? '');
    if (match === null) {
      throw new AppError(
        'unauthorized',
        header === undefined ? missing : 'Authorization header must be "Bearer <token>"',
      );
    }
    const given = digest(match[1]!);
    // Every candidate is compared, so the time taken does not tell which one (if any) matched.
    let valid = false;
    for (const candidate of expected) valid = timingSafeEqual(given, candidate) || valid;
    if (!valid) throw new AppError('unauthorized', 'The bearer token is not valid');
  };
}

/** Hash first so the comparison takes the same time whatever the lengths. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
