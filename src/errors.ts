/**
 * @module errors
 * The one error type of the product. Every expected failure is an `AppError` with a code from
 * `ERROR_STATUS`; the HTTP layer maps the code to a status in one place, and clients read the same code.
 */

/** Every error code and the HTTP status it maps to. Exhaustive: adding a code forces choosing its status. */
export const ERROR_STATUS = {
  validation_error: 400,
  factory_not_allowed: 400,
  factory_module_not_found: 400,
  factory_function_not_found: 400,
  factory_not_a_function: 400,
  factory_failed: 400,
  invalid_agent_card: 400,
  host_not_allowed: 400,
  unauthorized: 401,
  not_found: 404,
  agent_not_found: 404,
  session_not_found: 404,
  version_not_found: 404,
  agent_exists: 409,
  session_exists: 409,
  version_conflict: 409,
  history_expired: 410,
  misdirected_request: 421,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal_error: 500,
  config_error: 500,
  data_dir_locked: 500,
  upstream_error: 502,
  card_fetch_failed: 502,
  storage_error: 503,
  database_unavailable: 503,
  shutting_down: 503,
  timeout: 504,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface AppErrorOptions {
  /** The underlying error, kept for logs; never sent to clients. */
  cause?: unknown;
  /** Structured, client-safe detail (e.g. which fields failed validation). */
  details?: unknown;
}

/** An expected failure with a stable code and a message that says what to fix. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.details = options.details;
  }

  /** The HTTP status for this error's code. */
  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}

/** The message of any thrown value, for logs and wrapped errors. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** The `code` of a Node.js system error (`ENOSPC`, `EACCES`, ...), if it has one. */
export function systemErrorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}
