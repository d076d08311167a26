/**
 * @module bench/harness
 * What every benchmark shares: timing with warm-up, order statistics, and one Markdown report.
 * Each suite exports `run(report)`; `bench/run.ts` runs them all and writes `bench/results/REPORT.md`.
 */
import os from 'node:os';

export interface Stats {
  n: number;
  median: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}

/** Order statistics of a sample (milliseconds in, milliseconds out). */
export function stats(samples: readonly number[]): Stats {
  if (samples.length === 0) throw new Error('stats() needs at least one sample');
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return {
    n: sorted.length,
    median: at(0.5),
    p99: at(0.99),
    mean: sorted.reduce((sum, x) => sum + x, 0) / sorted.length,
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
  };
}

export interface MeasureOptions {
  iterations: number;
  warmup?: number;
}

/** Time `fn` once per iteration after `warmup` untimed calls; returns per-call milliseconds. */
export async function measure(fn: (i: number) => unknown, options: MeasureOptions): Promise<Stats> {
  const { iterations, warmup = Math.min(20, Math.ceil(iterations / 10)) } = options;
  for (let i = 0; i < warmup; i++) await fn(i);
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint();
    await fn(i);
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return stats(samples);
}

/**
 * Run several variants interleaved (A B C A B C ...), so drift on a shared, noisy machine
 * hits each variant alike; returns stats per variant name.
 */
export async function measureInterleaved(
  variants: Record<string, (i: number) => unknown>,
  options: MeasureOptions,
): Promise<Record<string, Stats>> {
  const names = Object.keys(variants);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  const { iterations, warmup = Math.min(20, Math.ceil(iterations / 10)) } = options;
  for (let i = 0; i < warmup; i++) for (const name of names) await variants[name]!(i);
  for (let i = 0; i < iterations; i++) {
    for (const name of names) {
      const start = process.hrtime.bigint();
      await variants[name]!(i);
      samples[name]!.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
  }
  return Object.fromEntries(names.map((name) => [name, stats(samples[name]!)]));
}

export const ms = (value: number, digits = 3): string => `${value.toFixed(digits)} ms`;
export const ratio = (value: number, base: number): string => `${(value / base).toFixed(2)}x`;

/** A Markdown report built section by section. */
export class Report {
  private readonly lines: string[] = [];
  readonly data: Record<string, unknown> = {};

  section(title: string): this {
    this.lines.push('', `## ${title}`, '');
    console.log(`\n== ${title}`);
    return this;
  }

  text(paragraph: string): this {
    this.lines.push(paragraph, '');
    console.log(paragraph);
    return this;
  }

  table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): this {
    this.lines.push(`| ${headers.join(' | ')} |`, `| ${headers.map(() => '---').join(' | ')} |`);
    for (const row of rows) this.lines.push(`| ${row.join(' | ')} |`);
    this.lines.push('');
    console.table(rows.map((row) => Object.fromEntries(headers.map((h, i) => [h, row[i]]))));
    return this;
  }

  /** Machine-readable results, written next to the report. */
  record(key: string, value: unknown): this {
    this.data[key] = value;
    return this;
  }

  render(title: string): string {
    const cpus = os.cpus();
    const header = [
      `# ${title}`,
      '',
      `Generated ${new Date().toISOString()} on ${cpus.length} x ${cpus[0]?.model ?? 'unknown CPU'}, ` +
        `${Math.round(os.totalmem() / 2 ** 30)} GiB, Node.js ${process.version}, ${os.platform()} ${os.release()}.`,
      'Every ratio compares numbers measured in the same run; the machine is shared, so absolute numbers drift between runs.',
    ];
    return `${[...header, ...this.lines].join('\n')}\n`;
  }
}

export interface BenchSuite {
  /** Short name used to select the suite on the command line (`npm run bench -- registry`). */
  name: string;
  run(report: Report): Promise<void>;
}
