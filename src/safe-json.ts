/**
 * @module safe-json
 * JSON parsing that refuses prototype-pollution keys (`__proto__`, `constructor`) at any depth.
 * Used for the registry file and every HTTP body, so a hostile key never reaches an object spread or merge.
 */

export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor']);

/** Thrown when text is not JSON or carries a forbidden key; `message` says which and where. */
export class UnsafeJsonError extends SyntaxError {
  constructor(
    message: string,
    /** JSON pointer of the offending key, when the text parsed. */
    readonly pointer?: string,
  ) {
    super(message);
    this.name = 'UnsafeJsonError';
  }
}

/** Parse JSON text; throws `SyntaxError` for bad JSON and `UnsafeJsonError` for a forbidden key. */
export function parseJsonSafely(text: string): unknown {
  const value: unknown = JSON.parse(text);
  // Fast path: a key can only be forbidden if its name occurs in the text.
  if (!text.includes('__proto__') && !text.includes('constructor')) return value;
  const pointer = findForbiddenKey(value);
  if (pointer !== undefined) {
    throw new UnsafeJsonError(
      `forbidden key at ${pointer}: "__proto__" and "constructor" are not allowed`,
      pointer,
    );
  }
  return value;
}

/** The JSON pointer of the first forbidden key in `value`, or `undefined` when there is none. */
export function findForbiddenKey(value: unknown, pointer = ''): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findForbiddenKey(value[i], `${pointer}/${i}`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    const here = `${pointer}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
    if (FORBIDDEN_KEYS.has(key)) return here;
    const found = findForbiddenKey((value as Record<string, unknown>)[key], here);
    if (found !== undefined) return found;
  }
  return undefined;
}
