/**
 * @module bench/run
 * `npm run bench [-- suite ...]`: runs the benchmark suites. A full run writes `docs/PERFORMANCE.md` (and the
 * numbers as `bench/results/REPORT.json`); with suite names it runs only those and writes
 * `bench/results/REPORT-<suites>.md`, leaving the published report alone.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BenchSuite, Report } from './harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const selected = process.argv.slice(2);

const files = (await readdir(here)).filter((file) => file.endsWith('.bench.ts')).sort();
const suites: BenchSuite[] = [];
for (const file of files) {
  const module = (await import(pathToFileURL(path.join(here, file)).href)) as { suite: BenchSuite };
  if (selected.length === 0 || selected.includes(module.suite.name)) suites.push(module.suite);
}
if (suites.length === 0) {
  console.error(`No benchmark suite matches ${selected.join(', ')}; available: ${files.join(', ')}`);
  process.exit(2);
}

const report = new Report();
for (const suite of suites) await suite.run(report);

const out = path.join(here, 'results');
await mkdir(out, { recursive: true });
const suffix = selected.length === 0 ? '' : `-${selected.join('-')}`;
const markdown =
  selected.length === 0
    ? path.join(here, '..', 'docs', 'PERFORMANCE.md')
    : path.join(out, `REPORT${suffix}.md`);
await writeFile(
  markdown,
  report.render(
    'Agent Registry Service: performance',
    suites.map((suite) => suite.name),
  ),
);
await writeFile(path.join(out, `REPORT${suffix}.json`), `${JSON.stringify(report.data, null, 2)}\n`);
console.log(`\nReport written to ${path.relative(process.cwd(), markdown)}`);
