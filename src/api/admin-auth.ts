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

/** An admin token and the label its changes are recorded under (REGISTRY_ADMIN_TOKENS `label:token`). */
export interface AdminToken {
  label: string;
  token: string;
}

/** The label REGISTRY_ADMIN_TOKEN's changes are recorded under. */
export const ADMIN_TOKEN_LABEL = 'admin';
/** Who made a change when no admin token is configured. */
export const ANONYMOUS = 'anonymous';

export interface AccessTokens {
  /** REGISTRY_ADMIN_TOKEN: registry changes (recorded as `admin`); it also grants reads. */
  adminToken?: string | undefined;
  /** REGISTRY_ADMIN_TOKENS: further admin tokens, each recorded under its label. */
  adminTokens?: readonly AdminToken[] | undefined;
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

/** Every admin token: REGISTRY_ADMIN_TOKEN as `admin`, then REGISTRY_ADMIN_TOKENS. */
export function adminTokensOf(tokens: AccessTokens): AdminToken[] {
  return [
    ...(tokens.adminToken === undefined ? [] : [{ label: ADMIN_TOKEN_LABEL, token: tokens.adminToken }]),
    ...(tokens.adminTokens ?? []),
  ];
}

export function accessControl(tokens: AccessTokens): AccessControl {
  const admins = adminTokensOf(tokens);
  const read = requireToken(
    tokens.readToken,
    admins.map((admin) => admin.token),
    'Registry reads need Authorization: Bearer <REGISTRY_READ_TOKEN> (or the admin token)',
  );
  const userData = [...admins.map((admin) => admin.token), tokens.apiToken].filter(
    (token): token is string => token !== undefined,
  );
  return {
    admin: requireAdminToken(admins),
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

const actors = new WeakMap<FastifyRequest, string>();

/**
 * Who makes a registry change: the label of the admin token the request was let through with, or
 * `anonymous` when no admin token is configured.
 */
export function actorOf(request: FastifyRequest): string {
  return actors.get(request) ?? ANONYMOUS;
}

/**
 * A Fastify `onRequest` hook that requires `Authorization: Bearer <one of tokens>` when any is configured,
 * and remembers the matching token's label as the request's actor (`actorOf`).
 */
export function requireAdminToken(tokens: string | undefined | readonly AdminToken[]): TokenGuard {
  const admins =
    typeof tokens === 'string'
      ? [{ label: ADMIN_TOKEN_LABEL, token: tokens }]
      : tokens === undefined
        ? []
        : tokens;
  if (admins.length === 0) return async () => {};
  const [first, ...others] = admins;
  const check = requireToken(
    first!.token,
    others.map((admin) => admin.token),
    'This call changes the registry: send Authorization: Bearer <REGISTRY_ADMIN_TOKEN>',
  );
  const labels = admins.map((admin) => ({ label: admin.label, digest: digest(admin.token) }));
  return async (request) => {
    await check(request);
    // Valid, so the header holds one of the tokens; every one is compared again for the label.
    const given = digest(/^Bearer[ \t]+(\S+)\s*$/i.exec(request.headers.authorization!)![1]!);
    let label = labels[0]!.label;
    for (const candidate of labels) if (timingSafeEqual(given, candidate.digest)) label = candidate.label;
    actors.set(request, label);
  };
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
