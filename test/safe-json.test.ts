import { describe, expect, it } from 'vitest';
import { AppError } from '../src/errors.js';
import {
  assertJsonValue,
  BODY_LIMITS,
  findJsonProblem,
  parseJsonSafely,
  UnsafeJsonError,
} from '../src/safe-json.js';

function refusal(text: string): UnsafeJsonError {
  try {
    parseJsonSafely(text);
  } catch (error) {
    expect(error).toBeInstanceOf(UnsafeJsonError);
    return error as UnsafeJsonError;
  }
  throw new Error(`accepted ${text.slice(0, 80)}`);
}

const nested = (depth: number, inner = '1') => `${'{"a":'.repeat(depth)}${inner}${'}'.repeat(depth)}`;

describe('parseJsonSafely', () => {
  it('parses ordinary JSON, including strings that merely mention the keys', () => {
    expect(parseJsonSafely('{"a":[1,{"b":null}]}')).toEqual({ a: [1, { b: null }] });
    expect(parseJsonSafely('{"note":"__proto__ and constructor are words"}')).toEqual({
      note: '__proto__ and constructor are words',
    });
    expect(parseJsonSafely('{"emoji":"\\ud83d\\ude00","n":-0.5e-300}')).toEqual({
      emoji: '😀',
      n: -0.5e-300,
    });
  });

  it.each([
    ['{"__proto__":{"polluted":true}}', '/__proto__'],
    ['{"a":{"constructor":{"prototype":{"polluted":true}}}}', '/a/constructor'],
    ['[1,{"x":[{"__proto__":1}]}]', '/1/x/0/__proto__'],
    // Escapes are undone before the check: these are the same keys.
    ['{"\\u005f_proto__":{"x":1}}', '/__proto__'],
    ['{"caps":{"\\u0063onstructor":1}}', '/caps/constructor'],
  ])('refuses %s at %s and pollutes nothing', (text, pointer) => {
    const error = refusal(text);
    expect(error.pointer).toBe(pointer);
    expect(error.message).toContain(`forbidden key at ${pointer}`);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses nesting deeper than the limit, naming it, without recursing (100,000 levels)', () => {
    expect(parseJsonSafely(nested(31))).toBeTruthy();
    const error = refusal(nested(33));
    expect(error.message).toMatch(/nested deeper than the limit of 32 levels/);
    expect(error.pointer).toBe(`/${Array(32).fill('a').join('/')}`);
    expect(refusal(`${'['.repeat(100_000)}${']'.repeat(100_000)}`).message).toMatch(/limit of 32/);
    expect(refusal(nested(4000, '{"constructor":1}')).message).toMatch(/limit of 32/);
  });

  it('refuses numbers JSON cannot carry instead of storing them as null', () => {
    for (const text of ['{"x":1e400}', '{"x":-1e400}', '[1e309]']) {
      expect(refusal(text).message).toMatch(/out of range: JSON numbers must be finite/);
    }
    expect(parseJsonSafely('{"x":1.7976931348623157e308}')).toEqual({ x: Number.MAX_VALUE });
  });

  it('refuses strings and keys that are not well-formed Unicode (they would be altered when stored)', () => {
    expect(refusal('{"user_id":"\\ud800"}').message).toMatch(/\/user_id is not well-formed Unicode/);
    expect(refusal('{"x":"a\\udfffb"}').pointer).toBe('/x');
    expect(refusal('{"\\udc00":1}').message).toMatch(/a key in \(root\) is not well-formed/);
  });

  it('applies string and key length limits', () => {
    const limits = { ...BODY_LIMITS, maxStringLength: 5, maxKeyLength: 3 };
    expect(() => parseJsonSafely('{"abc":"12345"}', limits)).not.toThrow();
    expect(() => parseJsonSafely('{"a":["123456"]}', limits)).toThrow(
      'the string at /a/0 is 6 characters long; the limit is 5',
    );
    expect(() => parseJsonSafely('{"abcd":1}', limits)).toThrow(
      'a key in (root) is 4 characters long; the limit is 3',
    );
  });

  it('throws SyntaxError for text that is not JSON', () => {
    expect(() => parseJsonSafely('{nope')).toThrow(SyntaxError);
  });
});

describe('findJsonProblem on values built in process', () => {
  it('escapes pointer segments', () => {
    expect(findJsonProblem({ 'a/b': { '~c': { constructor: 1 } } }, BODY_LIMITS)?.pointer).toBe(
      '/a~1b/~0c/constructor',
    );
    expect(findJsonProblem('plain', BODY_LIMITS)).toBeUndefined();
  });

  it('holds them to JSON: no class instances, undefined, functions, BigInts or cycles', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const cases: [unknown, RegExp][] = [
      [{ when: new Date() }, /\/when is not a plain JSON object/],
      [{ x: undefined }, /\/x is not JSON \(undefined\)/],
      [{ f: () => 1 }, /\/f is not JSON \(function\)/],
      [[1n], /\/0 is not JSON \(bigint\)/],
      [cyclic, /nested deeper than the limit/],
      [{ n: Number.NaN }, /out of range/],
    ];
    for (const [value, message] of cases)
      expect(findJsonProblem(value, BODY_LIMITS)?.message).toMatch(message);
    expect(findJsonProblem(Object.assign(Object.create(null), { a: 1 }), BODY_LIMITS)).toBeUndefined();
  });

  it('assertJsonValue throws a validation_error naming the subject and the place', () => {
    let error: unknown;
    try {
      assertJsonValue({ deep: { x: Number.POSITIVE_INFINITY } }, 'capabilities', BODY_LIMITS);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('validation_error');
    expect((error as AppError).message).toBe(
      'Invalid capabilities: the number at /deep/x is out of range: JSON numbers must be finite (1e400 is refused)',
    );
    expect(() => assertJsonValue({ ok: [1, 'two', null, true] }, 'x', BODY_LIMITS)).not.toThrow();
  });
});
