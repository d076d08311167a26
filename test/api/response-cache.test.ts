import { describe, expect, it } from 'vitest';
import { ResponseCache } from '../../src/api/response-cache.js';

const bytes = (n: number) => Buffer.alloc(n, 1);

describe('ResponseCache', () => {
  it('returns a body only for the version it was stored with', () => {
    const cache = new ResponseCache(100);
    cache.set('a', 3, bytes(10));
    expect(cache.get('a', 3)).toEqual(bytes(10));
    expect(cache.get('a', 4)).toBeUndefined();
    expect(cache.get('b', 3)).toBeUndefined();
    cache.set('a', 4, bytes(5));
    expect(cache.get('a', 3)).toBeUndefined();
    expect(cache.totalBytes).toBe(5);
  });

  it('evicts the least recently used entries to stay within its byte budget', () => {
    const cache = new ResponseCache(30);
    cache.set('a', 1, bytes(10));
    cache.set('b', 1, bytes(10));
    cache.set('c', 1, bytes(10));
    expect(cache.get('a', 1)).toBeDefined(); // a is now the most recently used
    cache.set('d', 1, bytes(10));
    expect(cache.get('b', 1)).toBeUndefined();
    expect(cache.get('a', 1)).toBeDefined();
    expect(cache.get('c', 1)).toBeDefined();
    expect(cache.get('d', 1)).toBeDefined();
    expect(cache.totalBytes).toBe(30);
    expect(cache.size).toBe(3);
  });

  it('never holds a body larger than the whole budget, and forgets on delete', () => {
    const cache = new ResponseCache(30);
    cache.set('a', 1, bytes(10));
    cache.set('huge', 1, bytes(31));
    expect(cache.get('huge', 1)).toBeUndefined();
    expect(cache.get('a', 1)).toBeDefined();
    cache.delete('a');
    cache.delete('missing');
    expect(cache.size).toBe(0);
    expect(cache.totalBytes).toBe(0);
  });
});
