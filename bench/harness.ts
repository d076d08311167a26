/**
 * @module bench/harness
 * What every benchmark shares: timing with warm-up, order statistics, and one Markdown report.
 * Each suite exports `run(report)` and contributes its sections; a suite that measures one of the seed's
 * scenarios also reports it with `report.scenario(...)`, next to its anchor. `bench/run.ts` runs them all
 * and writes `docs/PERFORMANCE.md`: the machine and the method, the seed's scenarios against their limits
 * and anchors, then every suite's sections.
 */
import { statfsSync } from 'node:fs';
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

/** The seed's performance scenarios (Task 5.3), in the order the report lists them. */
export const SEED_SCENARIOS = {
  routing: { title: 'Query routing, 100 agents', limitMs: 500 as number | undefined },
  save: { title: 'Registry file save, 100 agents', limitMs: 100 as number | undefined },
  session_read: { title: 'Session query, 1,000 messages', limitMs: 200 as number | undefined },
  concurrent_routing: { title: '50 concurrent route requests', limitMs: 500 as number | undefined },
} as const;

export type SeedScenario = keyof typeof SEED_SCENARIOS;

/** One seed scenario as measured, with the anchor measured beside it in the same run. */
export interface ScenarioResult {
  /** Per-operation latency in milliseconds. */
  median: number;
  p99: number;
  /** What exactly was timed. */
  how: string;
  anchor: { name: string; median: number; p99: number };
  /** Anything else worth a column (throughput, errors). */
  note?: string;
}

/** A Markdown report built section by section. */
export class Report {
  private readonly lines: string[] = [];
  readonly data: Record<string, unknown> = {};
  private readonly scenarios = new Map<SeedScenario, ScenarioResult>();

  /** Report one of the seed's scenarios; the report lists them first, against the seed's limits. */
  scenario(key: SeedScenario, result: ScenarioResult): this {
    this.scenarios.set(key, result);
    this.data[`seed_${key}`] = result;
    console.log(`  seed scenario ${key}: median ${ms(result.median)}, p99 ${ms(result.p99)}`);
    return this;
  }

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

  render(title: string, suites: readonly string[] = []): string {
    const cpus = os.cpus();
    const header = [
      `# ${title}`,
      '',
      'Written by `npm run bench` (bench/run.ts); do not edit by hand.',
      '',
      '## Machine and method',
      '',
      `- Generated ${new Date().toISOString()} on ${cpus.length} x ${cpus[0]?.model ?? 'unknown CPU'}, ` +
        `${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Node.js ${process.version}, ${os.platform()} ${os.release()}; ` +
        `temporary files on ${describeTmpFs()}.`,
      ...(suites.length > 0 ? [`- Suites run: ${suites.join(', ')}.`] : []),
      '- Each operation is timed on its own with `process.hrtime` after untimed warm-up calls; medians and p99 ' +
        'are order statistics of those samples. Variants compared with each other run interleaved (A B A B ...), ' +
        'so the drift of a shared machine hits them alike. HTTP loads use autocannon against the service in its ' +
        'own process, built as `npm start` runs it.',
      '- Every figure stands next to an anchor measured in the same run on the same machine (a raw fsync’d ' +
        'write of the same bytes, a Fastify hello-world server, Google ADK’s `DatabaseSessionService`): the ' +
        'machine is shared with other work, so absolute numbers drift between runs and the ratios are what to compare.',
    ];
    return `${[...header, ...this.scenarioLines(), ...this.lines].join('\n')}\n`;
  }

  private scenarioLines(): string[] {
    const rows = Object.entries(SEED_SCENARIOS).map(([key, { title, limitMs }]) => {
      const result = this.scenarios.get(key as SeedScenario);
      if (result === undefined) return [title, 'not measured in this run', '', '', '', '', ''];
      return [
        title,
        `${ms(result.median)} / ${ms(result.p99)}`,
        limitMs === undefined ? '—' : `< ${limitMs} ms`,
        limitMs === undefined
          ? '—'
          : `${(result.median / limitMs).toFixed(4)} / ${(result.p99 / limitMs).toFixed(4)} ${result.p99 < limitMs ? '(met)' : '(NOT met)'}`,
        `${result.anchor.name}: ${ms(result.anchor.median)} / ${ms(result.anchor.p99)}`,
        `${ratio(result.median, result.anchor.median)} / ${ratio(result.p99, result.anchor.p99)}`,
        `${result.how}${result.note === undefined ? '' : `; ${result.note}`}`,
      ];
    });
    const lines = [
      '',
      "## The seed's scenarios",
      '',
      'The four scenarios of the seed (Task 5.3) with its limits. "vs limit" is the figure divided by the limit ' +
        '(median / p99; below 1 is within it), "vs anchor" the figure divided by its anchor from the same run.',
      '',
      '| scenario | median / p99 | seed limit | vs limit | anchor median / p99 | vs anchor | what was timed |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...rows.map((row) => `| ${row.join(' | ')} |`),
      '',
    ];
    return lines;
  }
}

/** The filesystem type of the temp directory, where the benchmarks write (fsync costs depend on it). */
function describeTmpFs(): string {
  try {
    const stats = statfsSync(os.tmpdir());
    const kinds: Record<number, string> = {
      61267: 'ext4',
      1481003842: 'xfs',
      16914836: 'tmpfs',
      2435016766: 'btrfs',
      2035054128: 'overlayfs',
    };
    return `${os.tmpdir()} (${kinds[stats.type] ?? `filesystem type 0x${stats.type.toString(16)}`})`;
  } catch {
    return os.tmpdir();
  }
}

export interface BenchSuite {
  /** Short name used to select the suite on the command line (`npm run bench -- registry`). */
  name: string;
  run(report: Report): Promise<void>;
}
