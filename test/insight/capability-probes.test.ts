import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CapabilityProbes, isMisrouted, type ProbeTimers } from '../../src/insight/capability-probes.js';
import { toRoutable } from '../../src/insight/routable-entry.js';
import { createLogger } from '../../src/logger.js';
import type { RegisteredAgent } from '../../src/registry/agent-registry.js';
import { AgentRouter } from '../../src/routing/agent-router.js';
import { TestClock } from '../sessions/session-store.contract.js';
import { spawnTs } from '../support/child-process.js';
import { makeExamplesRecord, makeRegisteredAgent } from '../support/records.js';

const PROBE_RUN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'probe-run.ts');

/** Timers the test fires by hand; yielding between slices counts the slices. */
class ManualTimers implements ProbeTimers {
  private next = 1;
  readonly pending = new Map<number, { callback: () => void; ms: number }>();
  yields = 0;
  onYield: (() => void) | undefined;

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.next++;
    this.pending.set(id, { callback, ms });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  async yield(): Promise<void> {
    this.yields++;
    this.onYield?.();
    await Promise.resolve();
  }

  /** Fire every timer due within `ms` (they were all set relative to now). */
  fire(ms: number): void {
    for (const [id, timer] of [...this.pending]) {
      if (timer.ms <= ms) {
        this.pending.delete(id);
        timer.callback();
      }
    }
  }
}

function entry(
  name: string,
  examples: string[],
  extra: Partial<RegisteredAgent['record']> = {},
): RegisteredAgent {
  return makeRegisteredAgent(makeExamplesRecord(name, examples, extra));
}

const TICKETS = [
  'show my open tickets',
  'close ticket INC-1',
  'who is assigned to my ticket',
  'list critical tickets',
];
const CLOUD = [
  'cloud spend last month',
  'our aws bill',
  'azure costs this quarter',
  'cost of our gcp projects',
];

function setup(
  agents: RegisteredAgent[],
  options: { sliceMs?: number; cpuStep?: number; cpuShare?: number } = {},
) {
  const listeners = new Set<() => void>();
  let list = agents;
  const registry = {
    list: () => list,
    onChange: (listener: () => void) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  const router = new AgentRouter();
  const sync = () => {
    for (const name of ['tickets', 'cloud', 'clone', 'off']) router.remove(name);
    for (const agent of list) router.upsert(toRoutable(agent));
    router.trainNow();
  };
  sync();
  const timers = new ManualTimers();
  const clock = new TestClock();
  let cpu = 0;
  const probes = new CapabilityProbes({
    registry,
    router,
    timers,
    now: clock.now,
    // Every reading of the CPU clock advances it, so slices end after a known number of routes.
    cpuNow: () => (cpu += options.cpuStep ?? 1),
    debounceMs: 100,
    intervalMs: 1000,
    sliceMs: options.sliceMs ?? 3,
    // All of the loop unless a test says otherwise: slices then only yield a turn, which these tests count.
    cpuShare: options.cpuShare ?? 1,
  });
  const change = (next: RegisteredAgent[]) => {
    list = next;
    sync();
    for (const listener of listeners) listener();
  };
  return { probes, timers, clock, change, router };
}

describe('CapabilityProbes', () => {
  it('probes after the debounce, in slices, then on the interval; null before the first check', async () => {
    const { probes, timers, clock } = setup([entry('tickets', TICKETS), entry('cloud', CLOUD)]);
    probes.start();
    expect(probes.report('tickets')).toBeNull();
    expect([...timers.pending.values()].map((t) => t.ms)).toEqual([100]);
    timers.fire(100);
    await probes.settled();
    expect(probes.report('tickets')).toEqual({
      examples: 4,
      routed_here: 4,
      stolen_by: {},
      checked_at: clock.now().toISOString(),
    });
    expect(probes.report('cloud')?.routed_here).toBe(4);
    expect(timers.yields).toBeGreaterThan(1);
    expect(probes.stats()).toMatchObject({ runs: 1, agents: 2 });
    expect(probes.stats().longestSliceMs).toBeLessThanOrEqual(4);
    // The interval timer is armed after each run.
    expect([...timers.pending.values()].map((t) => t.ms)).toEqual([1000]);
    clock.advance(1000);
    timers.fire(1000);
    await new Promise((resolve) => setImmediate(resolve));
    await probes.settled();
    expect(probes.stats().runs).toBe(2);
    expect(probes.report('tickets')?.checked_at).toBe(clock.now().toISOString());
    await probes.stop();
    expect(timers.pending.size).toBe(0);
  });

  it('keeps to its CPU share: after each slice it rests three times as long at 25%, and stop cuts a rest short', async () => {
    const { probes, timers } = setup([entry('tickets', TICKETS), entry('cloud', CLOUD)], { cpuShare: 0.25 });
    const run = probes.runNow();
    let rests = 0;
    for (; rests < 100; rests++) {
      await new Promise((resolve) => setImmediate(resolve));
      if (probes.stats().runs > 0) break;
      const waits = [...timers.pending.values()].map((t) => t.ms);
      if (waits.length === 0) continue;
      // A slice ends at the first reading of the clock at or past 3 ms (one per route here): 3 ms of routing,
      // then a rest of 9 ms (three times as long), and no turn without a rest.
      expect(waits).toEqual([9]);
      timers.fire(9);
    }
    await run;
    expect(probes.report('tickets')?.routed_here).toBe(4);
    expect(rests).toBeGreaterThan(1);
    expect(timers.yields).toBe(0);

    // A rest under way (beside the interval timer armed after the run) does not hold stop.
    const second = probes.runNow();
    for (let i = 0; i < 100 && timers.pending.size < 2; i++) await new Promise((r) => setImmediate(r));
    expect([...timers.pending.values()].map((t) => t.ms)).toEqual([1000, 9]);
    await probes.stop();
    await second;
    expect(timers.pending.size).toBe(0);
    expect(probes.stats().runs).toBe(1);
  });

  it('a rest keeps the process alive while a run is awaited (a script that only awaits runNow finishes it)', async () => {
    const child = spawnTs(PROBE_RUN);
    const output: string[] = [];
    child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect({ code, output: output.join('').trim() }).toEqual({ code: 0, output: 'probed 3' });
  });

  it('refuses a CPU share outside (0, 1]', () => {
    for (const cpuShare of [0, -0.5, 1.5, Number.NaN]) {
      expect(() => setup([], { cpuShare })).toThrow(/cpuShare must be in \(0, 1\]/);
    }
  });

  it('reports the agent an overlapping one steals from, lists it misrouted, and names overlaps', async () => {
    const agents = [entry('tickets', TICKETS), entry('cloud', CLOUD)];
    const { probes, change } = setup(agents);
    expect(probes.overlaps([...TICKETS, 'x'.repeat(5000)])).toEqual([{ agent: 'tickets', examples: 4 }]);
    expect(probes.overlaps(['what is the weather on mars'])).toEqual([]);
    probes.start();
    // The clone has the tickets examples and more of the same kind: it takes most of them.
    change([
      ...agents,
      entry('clone', [...TICKETS, ...TICKETS.map((t) => `${t} please`), 'my tickets', 'ticket status']),
    ]);
    await probes.runNow();
    const tickets = probes.report('tickets')!;
    expect(tickets.examples).toBe(4);
    expect(tickets.routed_here + (tickets.stolen_by.clone ?? 0)).toBeLessThanOrEqual(4);
    expect(tickets.stolen_by.clone ?? 0).toBeGreaterThan(0);
    expect(probes.misrouted()).toEqual(isMisrouted(tickets) ? ['tickets'] : []);
    await probes.stop();
  });

  it('a change during a run abandons it; the run the change schedules takes over', async () => {
    const agents = [entry('tickets', TICKETS), entry('cloud', CLOUD)];
    const { probes, timers, change } = setup(agents, { sliceMs: 2 });
    probes.start();
    let changed = false;
    timers.onYield = () => {
      if (changed) return;
      changed = true;
      change([...agents, entry('off', ['x'], { enabled: false })]);
    };
    timers.fire(100);
    await new Promise((resolve) => setImmediate(resolve));
    // The first run stopped at its first yield: no report yet, the change's debounce is pending.
    expect(probes.stats().runs).toBe(0);
    expect([...timers.pending.values()].map((t) => t.ms)).toContain(100);
    timers.fire(100);
    await probes.settled();
    expect(probes.stats().runs).toBe(1);
    expect(probes.report('tickets')?.examples).toBe(4);
    // Disabled agents are not probed.
    expect(probes.report('off')).toBeNull();
    // Removed agents are forgotten.
    change([agents[0]!]);
    await probes.runNow();
    expect(probes.report('cloud')).toBeNull();
    await probes.stop();
    // Stopped: changes schedule nothing.
    change(agents);
    expect(timers.pending.size).toBe(0);
  });

  it('digests what the reports say, not when: a run that finds the same keeps it, a new finding changes it', async () => {
    const agents = [entry('tickets', TICKETS), entry('cloud', CLOUD)];
    const { probes, clock, change } = setup(agents);
    const empty = probes.digest;
    expect(empty).toMatch(/^[A-Za-z0-9_-]{16}$/);
    await probes.runNow();
    const first = probes.digest;
    expect(first).not.toBe(empty);
    // Another run later: checked_at moves, the findings and the digest do not.
    clock.advance(60_000);
    await probes.runNow();
    expect(probes.report('tickets')?.checked_at).toBe(clock.now().toISOString());
    expect(probes.digest).toBe(first);
    // The clone takes some of the tickets examples: a new finding, a new digest.
    change([
      ...agents,
      entry('clone', [...TICKETS, ...TICKETS.map((t) => `${t} please`), 'my tickets', 'ticket status']),
    ]);
    await probes.runNow();
    expect(probes.report('tickets')?.stolen_by.clone ?? 0).toBeGreaterThan(0);
    expect(probes.digest).not.toBe(first);
    // Back to the two agents: the same findings as before, the same digest.
    change(agents);
    await probes.runNow();
    expect(probes.digest).toBe(first);
    await probes.stop();
  });

  it('logs a failing run and keeps going', async () => {
    const entries: { level: number; msg: string }[] = [];
    const logger = createLogger({
      level: 'debug',
      format: 'json',
      destination: { write: (line: string) => entries.push(JSON.parse(line) as (typeof entries)[number]) },
    });
    let fail = true;
    const registry = {
      list: () => {
        if (fail) throw new Error('registry exploded');
        return [];
      },
      onChange: () => () => {},
    };
    const router = new AgentRouter();
    const probes = new CapabilityProbes({
      registry,
      router,
      logger,
      timers: new ManualTimers(),
      intervalMs: 0,
    });
    await probes.runNow();
    expect(entries.at(-1)).toMatchObject({ level: 50, msg: 'capability probes failed: registry exploded' });
    fail = false;
    await probes.runNow();
    expect(probes.stats().runs).toBe(1);
  });
});
