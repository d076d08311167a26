/**
 * @module client/service-http-client
 * JSON over fetch to the registry service, shared by the registry and session clients: a timeout per
 * attempt, retries with exponential backoff and full jitter where resending is safe, and errors that name
 * the call, the status, the service's error code and how many attempts were made.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { messageOf, systemErrorCode } from '../errors.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** How a call failed: an HTTP error answer, no answer in time, the connection, or an unreadable answer. */
export type ServiceCallFailure = 'http' | 'timeout' | 'connection' | 'invalid_response';

export interface ServiceHttpClientOptions {
  /** The service's base URL, e.g. `http://127.0.0.1:8003` (a trailing slash is ignored). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <token>` on admin calls only (REGISTRY_ADMIN_TOKEN). */
  adminToken?: string | undefined;
  /** Sent on every `/sessions` call (REGISTRY_API_TOKEN). */
  apiToken?: string | undefined;
  /** Sent on registry reads and routing (REGISTRY_READ_TOKEN). */
  readToken?: string | undefined;
  /** Each attempt is abandoned after this long (default 10 s). */
  timeoutMs?: number;
  /** Attempts per call, the first included (default 3). */
  maxAttempts?: number;
  /** Backoff before retry n is a random delay up to min(maxMs, baseMs * 2^(n-1)) (defaults 100 and 2000). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** For tests of the backoff; defaults to `Math.random`. */
  random?: () => number;
}

export interface ServiceRequest {
  /** Names the call in errors, e.g. `registry.get("tickets_agent")`. */
  call: string;
  method: HttpMethod;
  /** Path with its segments already encoded, e.g. `/registry/agents/tickets_agent`. */
  path: string;
  query?: Readonly<Record<string, string | number | boolean | undefined>>;
  body?: unknown;
  headers?: Readonly<Record<string, string>>;
  /**
   * Whether sending the call twice is harmless (it reads, or sets an absolute state). Only such calls are
   * retried after a 5xx, a timeout or a lost connection. Defaults to every method but POST.
   */
  idempotent?: boolean;
  /**
   * Send the admin token. Otherwise the call gets the API token under `/sessions` and the read token
   * anywhere else: the admin token is never spread over reads.
   */
  admin?: boolean;
  /** Statuses besides 2xx that are answers, not errors (e.g. 304 for a conditional GET). */
  accept?: readonly number[];
  /** This call's per-attempt timeout (a long poll waits longer than the client's default). */
  timeoutMs?: number;
  /** Abandon the call (no retry) when this aborts. */
  signal?: AbortSignal;
  /**
   * A status that, on a retry after an attempt that may have reached the service, means that attempt did
   * the work (404 for a DELETE): the call then succeeds with an empty body.
   */
  doneOnRetry?: number;
}

export interface ServiceResponse<T> {
  status: number;
  headers: Headers;
  /** The parsed JSON body; `undefined` when the body is empty (304). */
  body: T;
  /** Attempts it took, the successful one included. */
  attempts: number;
}

export interface ServiceCallErrorInit {
  call: string;
  method: HttpMethod;
  url: string;
  failure: ServiceCallFailure;
  attempts: number;
  status?: number | undefined;
  code?: string | undefined;
  cause?: unknown;
}

/** A call to the service that failed; the message says which call, how, and after how many attempts. */
export class ServiceCallError extends Error {
  /** The call as the client names it, e.g. `registry.get("tickets_agent")`. */
  readonly call: string;
  readonly method: HttpMethod;
  /** The URL of the request. */
  readonly url: string;
  readonly failure: ServiceCallFailure;
  /** The HTTP status, when the service answered. */
  readonly status: number | undefined;
  /** The service's `error.code` (e.g. `agent_not_found`), when it sent one. */
  readonly code: string | undefined;
  readonly attempts: number;

  constructor(message: string, init: ServiceCallErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'ServiceCallError';
    this.call = init.call;
    this.method = init.method;
    this.url = init.url;
    this.failure = init.failure;
    this.status = init.status;
    this.code = init.code;
    this.attempts = init.attempts;
  }
}

export function isServiceCallError(value: unknown): value is ServiceCallError {
  return value instanceof ServiceCallError;
}

/** One attempt's outcome when it did not produce an answer. */
interface AttemptFailure {
  failure: ServiceCallFailure;
  /** Whether the request certainly never reached the server (safe to resend even if not idempotent). */
  notSent: boolean;
  status?: number;
  headers?: Headers;
  code?: string;
  /** What went wrong, without the call's name. */
  detail: string;
  cause?: unknown;
}

/** The connection was refused: nothing read the request. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED']);
const MAX_BODY_IN_MESSAGE = 200;

export class ServiceHttpClient {
  readonly baseUrl: string;
  private readonly adminToken: string | undefined;
  private readonly apiToken: string | undefined;
  private readonly readToken: string | undefined;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly random: () => number;

  constructor(options: ServiceHttpClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.adminToken = options.adminToken;
    this.apiToken = options.apiToken;
    this.readToken = options.readToken;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 3);
    this.backoffBaseMs = options.backoffBaseMs ?? 100;
    this.backoffMaxMs = options.backoffMaxMs ?? 2000;
    this.random = options.random ?? Math.random;
  }

  /** Send a request, retrying where safe; resolves with the answer or throws a {@link ServiceCallError}. */
  async request<T>(request: ServiceRequest): Promise<ServiceResponse<T>> {
    const url = this.urlOf(request);
    const idempotent = request.idempotent ?? request.method !== 'POST';
    const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
    let payload: string | undefined;
    if (request.body !== undefined) {
      payload = JSON.stringify(request.body);
      headers['content-type'] = 'application/json';
    }
    const token = this.tokenFor(request);
    if (token !== undefined) headers.authorization = `Bearer ${token}`;

    let mayHaveReached = false;
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.attempt<T>(request, url, headers, payload);
      if (request.signal?.aborted) throw request.signal.reason;
      if (!('failure' in outcome)) return { ...outcome, attempts: attempt };
      if (mayHaveReached && outcome.status !== undefined && outcome.status === request.doneOnRetry) {
        return {
          status: outcome.status,
          headers: outcome.headers ?? new Headers(),
          body: undefined as T,
          attempts: attempt,
        };
      }
      mayHaveReached ||= !outcome.notSent;
      const retryable =
        outcome.notSent ||
        (idempotent &&
          (outcome.failure === 'timeout' ||
            outcome.failure === 'connection' ||
            (outcome.status !== undefined && outcome.status >= 500)));
      if (!retryable || attempt >= this.maxAttempts) {
        throw this.error(request, url, outcome, attempt, idempotent || outcome.notSent);
      }
      await sleep(this.backoff(attempt), undefined, request.signal ? { signal: request.signal } : undefined);
    }
  }

  /** The token a call is sent with (see {@link ServiceRequest.admin}). */
  private tokenFor(request: ServiceRequest): string | undefined {
    if (request.admin === true) return this.adminToken;
    if (request.path === '/sessions' || request.path.startsWith('/sessions/')) return this.apiToken;
    return this.readToken;
  }

  /** Full jitter: a uniformly random delay up to the exponential bound, so clients do not retry in step. */
  backoff(attempt: number): number {
    const bound = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** (attempt - 1));
    return Math.floor(this.random() * bound);
  }

  private urlOf(request: ServiceRequest): string {
    const url = new URL(`${this.baseUrl}${request.path}`);
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url.href;
  }

  private async attempt<T>(
    request: ServiceRequest,
    url: string,
    headers: Record<string, string>,
    payload: string | undefined,
  ): Promise<Omit<ServiceResponse<T>, 'attempts'> | AttemptFailure> {
    let status: number;
    let responseHeaders: Headers;
    let text: string;
    const timeoutMs = request.timeoutMs ?? this.timeoutMs;
    try {
      // One signal for the whole attempt: a server that sends headers and then stalls times out too.
      const timeout = AbortSignal.timeout(timeoutMs);
      const response = await fetch(url, {
        method: request.method,
        headers,
        ...(payload !== undefined && { body: payload }),
        signal: request.signal === undefined ? timeout : AbortSignal.any([timeout, request.signal]),
      });
      status = response.status;
      responseHeaders = response.headers;
      text = await response.text();
    } catch (error) {
      return transportFailure(error, request.method, url, timeoutMs);
    }

    const ok = (status >= 200 && status < 300) || (request.accept ?? []).includes(status);
    let body: unknown;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch (error) {
        if (ok) {
          return {
            failure: 'invalid_response',
            notSent: false,
            status,
            detail: `${status} answer is not JSON: ${snippet(text)}`,
            cause: error,
          };
        }
      }
    }
    if (ok) return { status, headers: responseHeaders, body: body as T };
    const serviceError = errorBodyOf(body);
    return {
      failure: 'http',
      notSent: false,
      status,
      headers: responseHeaders,
      ...(serviceError !== undefined && { code: serviceError.code }),
      detail:
        serviceError !== undefined
          ? `${status} ${serviceError.code}: ${serviceError.message}`
          : `${status}${text === '' ? '' : `: ${snippet(text)}`}`,
    };
  }

  private error(
    request: ServiceRequest,
    url: string,
    outcome: AttemptFailure,
    attempts: number,
    resendable: boolean,
  ): ServiceCallError {
    const after = attempts > 1 ? ` after ${attempts} attempts` : '';
    // Say why a failure that often clears up was not retried, so nobody wonders whether retries are off.
    const transient =
      outcome.failure === 'timeout' ||
      outcome.failure === 'connection' ||
      (outcome.status !== undefined && outcome.status >= 500);
    const why =
      transient && !resendable
        ? ' (not retried: the call is not idempotent and may have reached the service)'
        : '';
    return new ServiceCallError(`${request.call} failed${after}: ${outcome.detail}${why}`, {
      call: request.call,
      method: request.method,
      url,
      failure: outcome.failure,
      attempts,
      status: outcome.status,
      code: outcome.code,
      cause: outcome.cause,
    });
  }
}

function transportFailure(
  error: unknown,
  method: HttpMethod,
  url: string,
  timeoutMs: number,
): AttemptFailure {
  if (error instanceof Error && error.name === 'TimeoutError') {
    return {
      failure: 'timeout',
      notSent: false,
      detail: `no answer from ${method} ${url} within ${timeoutMs} ms`,
      cause: error,
    };
  }
  // fetch reports network failures as `TypeError: fetch failed` with the system error as its cause.
  const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
  const code = systemErrorCode(cause) ?? systemErrorCode(error);
  const reason = code ?? messageOf(cause);
  if (code !== undefined && NOT_SENT_CODES.has(code)) {
    return {
      failure: 'connection',
      notSent: true,
      detail: `cannot connect to ${method} ${url} (${reason}): is the service running at ${new URL(url).origin}?`,
      cause: error,
    };
  }
  return {
    failure: 'connection',
    notSent: false,
    detail: `the connection to ${method} ${url} failed before an answer (${reason})`,
    cause: error,
  };
}

/** The service's `{"error": {"code", "message"}}`, if that is what the body is. */
function errorBodyOf(body: unknown): { code: string; message: string } | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const error = (body as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code !== 'string') return undefined;
  return { code, message: typeof message === 'string' ? message : '' };
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_BODY_IN_MESSAGE ? `${flat.slice(0, MAX_BODY_IN_MESSAGE - 1)}…` : flat;
}
