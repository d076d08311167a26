/**
 * @module safe-json
 * The JSON the product accepts, defined once: every HTTP body, the registry file and every stored record go
 * through the same checks, so what the API acknowledges is exactly what the store can write and load back.
 *
 * The checks run on parsed values (after JSON unescaping, so `"\u005f_proto__"` is `__proto__`) with an
 * explicit stack, never recursion: no input, however deep, can overflow the call stack.
 */
import { AppError } from './errors.js';

/** Keys refused at any depth: they reach object internals in spreads and merges (prototype pollution). */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor']);

export interface JsonLimits {
  /** Objects and arrays nested deeper than this are refused (the top-level value is depth 1). */
  maxDepth: number;
  /** Longest string value, in UTF-16 code units (JavaScript string length). */
  maxStringLength: number;
  /** Longest object key. */
  maxKeyLength: number;
}

/**
 * Limits of an HTTP body. String values are bounded by the body size limit; a JSON.stringify of 32 levels
 * is far from the ~4,500 at which V8 overflows.
 */
export const BODY_LIMITS: Readonly<JsonLimits> = Object.freeze({
  maxDepth: 32,
  maxStringLength: Number.POSITIVE_INFINITY,
  maxKeyLength: 1024,
});

/** Why a value is not acceptable JSON, and where (a JSON pointer, `""` for the value itself). */
export interface JsonProblem {
  pointer: string;
  message: string;
}

/** Thrown when text is not JSON or breaks a rule; `message` says which rule and where. */
export class UnsafeJsonError extends SyntaxError {
  constructor(
    message: string,
    /** JSON pointer of the offending value, when the text parsed. */
    readonly pointer?: string,
  ) {
    super(message);
    this.name = 'UnsafeJsonError';
  }
}

/**
 * Parse JSON text and check it against `limits`. Throws `SyntaxError` for text that is not JSON and
 * `UnsafeJsonError` for a forbidden key, a value nested too deep, a string too long or not well-formed
 * Unicode, or a number JSON cannot carry (`1e400` parses to Infinity, which would be stored as `null`).
 */
export function parseJsonSafely(text: string, limits: Readonly<JsonLimits> = BODY_LIMITS): unknown {
  const value: unknown = JSON.parse(text);
  const problem = findJsonProblem(value, limits);
  if (problem !== undefined) throw new UnsafeJsonError(problem.message, problem.pointer);
  return value;
}

/** Throws `validation_error` naming the problem when `value` is not acceptable JSON. */
export function assertJsonValue(value: unknown, subject: string, limits: Readonly<JsonLimits>): void {
  const problem = findJsonProblem(value, limits);
  if (problem === undefined) return;
  throw new AppError('validation_error', `Invalid ${subject}: ${problem.message}`, {
    details: [{ path: problem.pointer, message: problem.message }],
  });
}

/** A value waiting to be checked, with what is needed to name where it is (built only on error). */
interface Pending {
  value: unknown;
  depth: number;
  parent: Pending | undefined;
  key: string | number | undefined;
}

/**
 * The first problem in `value`, or `undefined` when it is plain JSON within `limits`. Values built in
 * process are held to the same rules as parsed ones: only plain objects, arrays, strings, finite numbers,
 * booleans and null (a `Date` or a class instance would not survive a JSON round trip unchanged).
 */
export function findJsonProblem(value: unknown, limits: Readonly<JsonLimits>): JsonProblem | undefined {
  const stack: Pending[] = [{ value, depth: 0, parent: undefined, key: undefined }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const problem = problemOf(item, limits, stack);
    if (problem !== undefined) {
      const pointer = pointerOf(problem.at);
      return { pointer, message: problem.message(pointer) };
    }
  }
  return undefined;
}

/** What is wrong and with which value; the message is built only on error, from the value's pointer. */
interface Found {
  at: Pending;
  message: (pointer: string) => string;
}

/** Check one value and push its children. */
function problemOf(item: Pending, limits: Readonly<JsonLimits>, stack: Pending[]): Found | undefined {
  const found = (message: (pointer: string) => string, at: Pending = item): Found => ({ at, message });
  const { value } = item;
  switch (typeof value) {
    case 'string':
      if (value.length > limits.maxStringLength) {
        return found(
          (at) =>
            `the string at ${where(at)} is ${value.length} characters long; the limit is ${limits.maxStringLength}`,
        );
      }
      if (!value.isWellFormed()) {
        return found(
          (at) => `the string at ${where(at)} is not well-formed Unicode (it has an unpaired surrogate)`,
        );
      }
      return undefined;
    case 'number':
      return Number.isFinite(value)
        ? undefined
        : found(
            (at) =>
              `the number at ${where(at)} is out of range: JSON numbers must be finite (1e400 is refused)`,
          );
    case 'boolean':
      return undefined;
    case 'object':
      break;
    default:
      return found((at) => `the value at ${where(at)} is not JSON (${typeof value})`);
  }
  if (value === null) return undefined;
  const depth = item.depth + 1;
  if (depth > limits.maxDepth) {
    return found(
      (at) => `the value at ${where(at)} is nested deeper than the limit of ${limits.maxDepth} levels`,
    );
  }
  if (Array.isArray(value)) {
    for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], depth, parent: item, key: i });
    return undefined;
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) {
    return found((at) => `the value at ${where(at)} is not a plain JSON object`);
  }
  const keys = Object.keys(value);
  for (let i = keys.length - 1; i >= 0; i--) {
    const key = keys[i]!;
    const child: Pending = { value: (value as Record<string, unknown>)[key], depth, parent: item, key };
    if (FORBIDDEN_KEYS.has(key)) {
      return found(
        (at) => `forbidden key at ${at}: "__proto__" and "constructor" are not allowed as keys`,
        child,
      );
    }
    if (key.length > limits.maxKeyLength) {
      return found(
        (at) => `a key in ${where(at)} is ${key.length} characters long; the limit is ${limits.maxKeyLength}`,
      );
    }
    if (!key.isWellFormed()) {
      return found((at) => `a key in ${where(at)} is not well-formed Unicode (it has an unpaired surrogate)`);
    }
    stack.push(child);
  }
  return undefined;
}

function where(pointer: string): string {
  return pointer === '' ? '(root)' : pointer;
}

/** The JSON pointer (RFC 6901) of a pending value. */
function pointerOf(item: Pending): string {
  const segments: string[] = [];
  for (let at: Pending | undefined = item; at?.key !== undefined; at = at.parent) {
    segments.push(String(at.key).replaceAll('~', '~0').replaceAll('/', '~1'));
  }
  return segments.length === 0 ? '' : `/${segments.reverse().join('/')}`;
}
