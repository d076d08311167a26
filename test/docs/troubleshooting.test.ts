/**
 * The troubleshooting section of docs/AGENT_REGISTRY_API.md quotes the project's real messages: every quoted
 * line (`> ...`, with `…` for the parts that vary) is made of text that the source really says, so a
 * reworded message fails here until the documentation says it too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './module-graph.js';

const REFERENCE = 'docs/AGENT_REGISTRY_API.md';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return /\.(ts|sh)$/.test(entry.name) ? [full] : [];
  });
}

/** The source as one text, with string concatenations across lines joined (`'a ' +\n 'b'` reads `a b`). */
function sourceText(): string {
  return ['src', 'jarvis_agent', 'scripts']
    .flatMap((dir) => sources(path.join(ROOT, dir)))
    .map((file) => readFileSync(file, 'utf8'))
    .join('\n')
    .replace(/['`]\s*\+\s*['`]/g, '')
    .replace(/\\`/g, '`');
}

describe('the troubleshooting section', () => {
  it('quotes messages the code really produces', () => {
    const markdown = readFileSync(path.join(ROOT, REFERENCE), 'utf8');
    const section = markdown.slice(markdown.indexOf('## Troubleshooting'));
    const quotes = [...section.matchAll(/^> (.+)$/gm)].map((match) => match[1]!);
    expect(quotes.length).toBeGreaterThanOrEqual(12);
    const text = sourceText();
    const missing: string[] = [];
    for (const quote of quotes) {
      const fragments = quote
        .split('…')
        .map((fragment) => fragment.trim())
        .filter((fragment) => fragment.length >= 5);
      expect(fragments.length, quote).toBeGreaterThan(0);
      for (const fragment of fragments) {
        if (!text.includes(fragment)) missing.push(`"${fragment}" (quoted in: ${quote})`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('covers the port, the lock, corrupt data, factories and PostgreSQL', () => {
    const markdown = readFileSync(path.join(ROOT, REFERENCE), 'utf8');
    for (const heading of [
      '### The port is in use',
      '### The database is locked',
      '### A corrupt registry file or database',
      '### A factory import is refused or fails',
      '### PostgreSQL is unreachable',
    ]) {
      expect(markdown).toContain(heading);
    }
  });
});
