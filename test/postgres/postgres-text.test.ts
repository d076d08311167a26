import { describe, expect, it } from 'vitest';
import {
  decodeNullableText,
  decodeText,
  encodeNullableText,
  encodeText,
} from '../../src/postgres/postgres-text.js';

describe('PostgreSQL text encoding', () => {
  it('leaves ordinary text alone', () => {
    for (const text of ['', 'hello', 'ünïcødé 👩‍💻', '\uFFFE \uFFFD', 'line\nbreak\ttab 0']) {
      expect(encodeText(text)).toBe(text);
      expect(decodeText(text)).toBe(text);
    }
  });

  it('stores no U+0000 and round-trips every mix of U+0000, U+FFFF and "0"', () => {
    const alphabet = ['\u0000', '\uFFFF', '0', 'a'];
    const strings = [''];
    for (let length = 1; length <= 5; length++) {
      for (const prefix of strings.filter((s) => s.length === length - 1)) {
        for (const char of alphabet) strings.push(prefix + char);
      }
    }
    const encoded = new Set<string>();
    for (const text of strings) {
      const stored = encodeText(text);
      expect(stored).not.toContain('\u0000');
      expect(decodeText(stored)).toBe(text);
      encoded.add(stored);
    }
    expect(encoded.size).toBe(strings.length);
    expect(encodeText('a\u0000b\uFFFFc')).toBe('a\uFFFF0b\uFFFF\uFFFFc');
  });

  it('passes null through for nullable columns', () => {
    expect(encodeNullableText(null)).toBeNull();
    expect(decodeNullableText(null)).toBeNull();
    expect(decodeNullableText(encodeNullableText('x\u0000')!)).toBe('x\u0000');
  });
});
