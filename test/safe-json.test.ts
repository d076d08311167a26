import { describe, expect, it } from 'vitest';
import { findForbiddenKey, parseJsonSafely, UnsafeJsonError } from '../src/safe-json.js';

describe('parseJsonSafely', () => {
  it('parses ordinary JSON, including strings that merely mention the keys', () => {
    expect(parseJsonSafely('{"a":[1,{"b":null}]}')).toEqual({ a: [1, { b: null }] });
    expect(parseJsonSafely('{"note":"__proto__ and constructor are words"}')).toEqual({
      note: '__proto__ and constructor are words',
    });
  });

  it.each([
    ['{"__proto__":{"polluted":true}}', '/__proto__'],
    ['{"a":{"constructor":{"prototype":{"polluted":true}}}}', '/a/constructor'],
    ['[1,{"x":[{"__proto__":1}]}]', '/1/x/0/__proto__'],
  ])('refuses %s at %s and pollutes nothing', (text, pointer) => {
    let error: unknown;
    try {
      parseJsonSafely(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnsafeJsonError);
    expect((error as UnsafeJsonError).pointer).toBe(pointer);
    expect((error as Error).message).toContain(pointer);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('throws SyntaxError for text that is not JSON', () => {
    expect(() => parseJsonSafely('{nope')).toThrow(SyntaxError);
  });

  it('escapes pointer segments', () => {
    expect(findForbiddenKey({ 'a/b': { '~c': { constructor: 1 } } })).toBe('/a~1b/~0c/constructor');
    expect(findForbiddenKey('plain')).toBeUndefined();
  });
});
