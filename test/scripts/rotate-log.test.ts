/**
 * scripts/rotate-log.mjs, the start script's log writer, fed through its standard input as the service
 * feeds it: every file stays within the cap, only the oldest output is dropped, and nothing else is lost.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { exited } from '../support/child-process.js';
import { useTempDirs } from '../support/temp-dir.js';

const WRITER = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'scripts',
  'rotate-log.mjs',
);
const tempDir = useTempDirs('rotate-log-');

/** Feed `chunks` to the writer one by one and wait for it to exit. */
async function feed(file: string, chunks: string[], ...args: string[]) {
  const child = spawn(process.execPath, [WRITER, file, ...args], { stdio: ['pipe', 'ignore', 'pipe'] });
  // The writer may exit (bad arguments) before reading its input.
  child.stdin.on('error', () => {});
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += String(chunk);
  });
  for (const chunk of chunks) {
    if (!child.stdin.write(chunk)) await new Promise((resolve) => child.stdin.once('drain', resolve));
  }
  child.stdin.end();
  const { code } = await exited(child);
  return { code, stderr };
}

/** The log files oldest first (FILE.KEEP ... FILE.1, FILE), and the numbered ones that exist. */
function logFiles(file: string): string[] {
  const rotated = [];
  for (let index = 1; existsSync(`${file}.${index}`); index++) rotated.unshift(`${file}.${index}`);
  return [...rotated, file];
}

function numberedLines(count: number): string[] {
  return Array.from(
    { length: count },
    (_, index) => `line ${String(index).padStart(5, '0')} ${'x'.repeat(30)}\n`,
  );
}

describe('scripts/rotate-log.mjs', () => {
  it('keeps every file under the cap, keeps KEEP old files, and drops only the oldest lines', async () => {
    const file = path.join(tempDir(), 'logs', 'registry.log');
    const input = numberedLines(600);
    // Chunks that do not end at line ends, as a pipe delivers them.
    const text = input.join('');
    const chunks = [];
    for (let offset = 0; offset < text.length; offset += 777) chunks.push(text.slice(offset, offset + 777));
    expect((await feed(file, chunks, '1000', '3')).code).toBe(0);

    const files = logFiles(file);
    expect(files).toEqual([`${file}.3`, `${file}.2`, `${file}.1`, file]);
    for (const each of files) {
      expect(statSync(each).size, each).toBeLessThanOrEqual(1000);
      // Cut at line ends: each file holds whole lines.
      expect(readFileSync(each, 'utf8'), each).toMatch(/^(line \d{5} x{30}\n)+$/);
    }
    const kept = files.map((each) => readFileSync(each, 'utf8')).join('');
    expect(text.endsWith(kept)).toBe(true);
    // Three full old files and the current one: about 3 x 1000 bytes kept, the rest dropped.
    expect(kept.length).toBeGreaterThan(3 * (1000 - input[0]!.length));
  });

  it('splits only a line longer than the cap, and loses nothing while KEEP suffices', async () => {
    const file = path.join(tempDir(), 'registry.log');
    const text = `${'a'.repeat(2500)}\nshort line\n`;
    expect((await feed(file, [text], '1000', '5')).code).toBe(0);
    const files = logFiles(file);
    for (const each of files) expect(statSync(each).size).toBeLessThanOrEqual(1000);
    expect(files.map((each) => readFileSync(each, 'utf8')).join('')).toBe(text);
  });

  it('appends to an existing log, rotating it first when it is already full', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'registry.log');
    writeFileSync(file, 'earlier run\n');
    expect((await feed(file, ['second run\n'], '100', '2')).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('earlier run\nsecond run\n');

    writeFileSync(file, `${'y'.repeat(150)}\n`);
    expect((await feed(file, ['third run\n'], '100', '2')).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('third run\n');
    expect(readFileSync(`${file}.1`, 'utf8')).toBe(`${'y'.repeat(150)}\n`);
  });

  it('refuses a cap or a count that is not a positive whole number', async () => {
    const file = path.join(tempDir(), 'registry.log');
    for (const args of [
      ['0', '5'],
      ['1000', '0'],
      ['ten', '5'],
    ]) {
      const { code, stderr } = await feed(file, [], ...args);
      expect(code).toBe(2);
      expect(stderr).toContain('usage: node scripts/rotate-log.mjs FILE');
    }
  });
});
