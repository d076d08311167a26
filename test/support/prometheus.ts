/**
 * @module test/support/prometheus
 * A strict reader of the Prometheus text exposition format (0.0.4), for tests that scrape `/metrics`: every
 * sample must belong to a family declared by `# TYPE` first, names and labels must be well formed, no series
 * may repeat, and a histogram's buckets must be cumulative and end in `+Inf` equal to its `_count`.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** Parse a scrape; throws naming the line on anything that is not valid exposition format. */
export function parsePrometheus(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  const seen = new Set<string>();
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    const where = `line ${index + 1} (${JSON.stringify(line)})`;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const match = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (match === null) return; // a plain comment
      const [, keyword, name = '', rest = ''] = match;
      if (!NAME.test(name)) throw new Error(`${where}: bad metric name`);
      const family = families.get(name) ?? { name, type: 'untyped' as MetricType, help: '', samples: [] };
      if (keyword === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type`);
        if (family.samples.length > 0) throw new Error(`${where}: TYPE after samples`);
        family.type = rest as MetricType;
      } else {
        family.help = rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      }
      families.set(name, family);
      return;
    }
    const sample = parseSample(line, where);
    const family = familyOf(families, sample.name);
    if (family === undefined) throw new Error(`${where}: sample of an undeclared metric`);
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seen.has(key)) throw new Error(`${where}: duplicate series`);
    seen.add(key);
    family.samples.push(sample);
  });
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}

function familyOf(families: Map<string, MetricFamily>, sampleName: string): MetricFamily | undefined {
  const exact = families.get(sampleName);
  if (exact !== undefined) return exact;
  const base = sampleName.replace(/_(bucket|sum|count)$/, '');
  const family = families.get(base);
  return family !== undefined && (family.type === 'histogram' || family.type === 'summary')
    ? family
    : undefined;
}

function parseSample(line: string, where: string): Sample {
  const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( -?\d+)?$/.exec(line);
  if (match === null) throw new Error(`${where}: not a sample`);
  const [, name = '', , body, raw = ''] = match;
  const labels: Record<string, string> = {};
  let rest = body ?? '';
  while (rest !== '') {
    const label = /^([^=]+)="((?:[^"\\]|\\.)*)"(,|$)/.exec(rest);
    if (label === null) throw new Error(`${where}: bad labels`);
    const [whole, labelName = '', value = ''] = label;
    if (!LABEL_NAME.test(labelName)) throw new Error(`${where}: bad label name ${labelName}`);
    if (labelName in labels) throw new Error(`${where}: repeated label ${labelName}`);
    labels[labelName] = value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    rest = rest.slice(whole.length);
  }
  // Prometheus parses values as Go floats: `NaN` and `Inf` in any case (prom-client writes `Nan`).
  if (!/^([-+]?inf|nan|[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)$/i.test(raw)) {
    throw new Error(`${where}: bad value`);
  }
  const special = raw.toLowerCase().replace(/^\+/, '');
  const value =
    special === 'inf'
      ? Infinity
      : special === '-inf'
        ? -Infinity
        : special === 'nan'
          ? Number.NaN
          : Number(raw);
  return { name, labels, value };
}

function checkHistogram(family: MetricFamily): void {
  const series = new Map<string, { buckets: [number, number][]; count?: number }>();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const entry = series.get(key) ?? { buckets: [] };
    if (sample.name.endsWith('_bucket')) {
      if (le === undefined) throw new Error(`${family.name}: bucket without le`);
      entry.buckets.push([le === '+Inf' ? Infinity : Number(le), sample.value]);
    } else if (sample.name.endsWith('_count')) {
      entry.count = sample.value;
    }
    series.set(key, entry);
  }
  for (const [key, entry] of series) {
    const sorted = [...entry.buckets].sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i]![1] < sorted[i - 1]![1]) throw new Error(`${family.name}${key}: buckets not cumulative`);
    }
    const last = sorted.at(-1);
    if (last === undefined || last[0] !== Infinity || last[1] !== entry.count) {
      throw new Error(`${family.name}${key}: the +Inf bucket must equal _count`);
    }
  }
}

/** The value of the one sample of `name` whose labels include `labels` (0 when there is none). */
export function sampleValue(
  families: Map<string, MetricFamily>,
  name: string,
  labels: Record<string, string> = {},
): number {
  const family = familyOf(families, name);
  const matches = (family?.samples ?? []).filter(
    (sample) =>
      sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
  if (matches.length > 1)
    throw new Error(`${name} ${JSON.stringify(labels)} matches ${matches.length} series`);
  return matches[0]?.value ?? 0;
}
