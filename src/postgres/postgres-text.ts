/**
 * @module postgres/postgres-text
 * PostgreSQL `text` cannot hold U+0000, which the product accepts anywhere in text (SQLite keeps it). Text
 * columns therefore store U+0000 as U+FFFF "0" and U+FFFF itself as U+FFFF U+FFFF; every other string,
 * i.e. practically all of them, is stored exactly as given. U+FFFF is a Unicode noncharacter, so real text
 * almost never contains it. Encode every text parameter, decode every text column read back.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is exactly what this module escapes.
const ENCODE = /[\u0000\uFFFF]/g;
const DECODE = /\uFFFF([0\uFFFF])/g;

/** The form of `value` stored in a text column. */
export function encodeText(value: string): string {
  ENCODE.lastIndex = 0;
  if (!ENCODE.test(value)) return value;
  return value.replace(ENCODE, (char) => (char === '\u0000' ? '\uFFFF0' : '\uFFFF\uFFFF'));
}

/** `encodeText`, passing `null` through (nullable columns). */
export function encodeNullableText(value: string | null): string | null {
  return value === null ? null : encodeText(value);
}

/** The original string of a text column's value. */
export function decodeText(stored: string): string {
  if (!stored.includes('\uFFFF')) return stored;
  return stored.replace(DECODE, (_, char: string) => (char === '0' ? '\u0000' : '\uFFFF'));
}

export function decodeNullableText(stored: string | null): string | null {
  return stored === null ? null : decodeText(stored);
}
