/**
 * @module cli/io
 * What the client commands write to and read from (so they run the same in a process and in a test), the
 * usage error (exit code 2), argument parsing on top of `node:util` `parseArgs`, and plain-text tables.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { messageOf } from '../errors.js';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
  /** Aborted when the user interrupts (SIGINT): a following command stops and exits 0. */
  signal: AbortSignal;
}

/** Exit codes: 0 success, 1 an API (or connection) error, 2 a usage error. */
export const EXIT_OK = 0;
export const EXIT_API_ERROR = 1;
export const EXIT_USAGE = 2;

/** Wrong command line or unusable input file: exit code 2, the message and a pointer to `--help`. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The command whose `--help` explains the right usage, e.g. `agents register`. */
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

/** The options every client command takes. */
export const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  url: { type: 'string' },
} as const satisfies OptionSpec;

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/**
 * Parse `args` for `command`: unknown flags, a missing or extra argument are {@link UsageError}s naming
 * `names` (the positional arguments expected, e.g. `['<name>', '<file.json>']`). With `--help` the
 * positionals are not checked.
 */
export function parseCommand(command: string, args: string[], options: OptionSpec, names: string[]): Parsed {
  let parsed: Parsed;
  try {
    parsed = parseArgs({
      args,
      options: { ...COMMON_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    }) as Parsed;
  } catch (error) {
    throw new UsageError(messageOf(error).replace(/\. To specify a positional argument.*$/s, ''), command);
  }
  if (parsed.values.help === true) return parsed;
  const required = names.filter((name) => name.startsWith('<'));
  if (parsed.positionals.length < required.length) {
    throw new UsageError(`${command} needs ${required.slice(parsed.positionals.length).join(' ')}`, command);
  }
  if (parsed.positionals.length > names.length) {
    throw new UsageError(
      `${command} takes ${names.length === 0 ? 'no arguments' : names.join(' ')}; unexpected "${parsed.positionals[names.length]}"`,
      command,
    );
  }
  return parsed;
}

/** A whole number option, or undefined when absent. */
export function integerOption(
  parsed: Parsed,
  name: string,
  command: string,
  range: { min: number; max?: number },
): number | undefined {
  const raw = parsed.values[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (
    typeof raw !== 'string' ||
    !/^\d+$/.test(raw) ||
    value < range.min ||
    (range.max !== undefined && value > range.max)
  ) {
    const bound = range.max === undefined ? `>= ${range.min}` : `${range.min}..${range.max}`;
    throw new UsageError(`--${name} must be a whole number ${bound}, not "${String(raw)}"`, command);
  }
  return value;
}

/** A number option (fractions allowed), or undefined when absent. */
export function numberOption(
  parsed: Parsed,
  name: string,
  command: string,
  check: (value: number) => boolean,
  what: string,
): number | undefined {
  const raw = parsed.values[name];
  if (raw === undefined) return undefined;
  const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
  if (!Number.isFinite(value) || !check(value)) {
    throw new UsageError(`--${name} must be ${what}, not "${String(raw)}"`, command);
  }
  return value;
}

export function stringOption(parsed: Parsed, name: string): string | undefined {
  const value = parsed.values[name];
  return typeof value === 'string' ? value : undefined;
}

/** Read and parse a JSON file; unreadable or invalid JSON is a {@link UsageError}. */
export async function readJsonFile(file: string, command: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${messageOf(error)}`, command);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`${file} is not valid JSON: ${messageOf(error)}`, command);
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Columns padded to their widest cell; no trailing spaces. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[line(headers), ...rows.map(line)].join('\n')}\n`;
}

/** One line of at most `max` characters. */
export function clip(text: string, max = 80): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
