/**
 * @module insight/capability-probes
 * Checks, continuously, that each agent still receives its own kind of query: after registry changes
 * (debounced) and on a timer, every routable agent's example queries are routed with the live router and
 * counted as routed here or stolen by another agent. It runs in the background in slices of a few
 * milliseconds, so a request waits at most one slice, and within a CPU budget: after each slice it rests in
 * proportion (a quarter of the event loop by default, `cpuShare`), so a run at 10,000 agents never takes
 * most of a busy service's event loop for seconds. The timers and the clock are injected, so tests drive it
 * without waiting.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { messageOf } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import type { RegisteredAgent } from '../registry/agent-registry.js';
import type { RouteOptions, RouteResult } from '../routing/agent-router.js';
import { agentExamples } from '../routing/routable-agent.js';
import { toRoutable } from './routable-entry.js';

/** An agent's last check: how many of its examples the router sends to it, and where the others go. */
export interface ProbeReport {
  examples: number;
  routed_here: number;
  stolen_by: Record<string, number>;
  checked_at: string;
}

/** An agent that another one overlaps: how many of the new agent's examples it currently answers. */
export interface Overlap {
  agent: string;
  examples: number;
}

/** The live router slice probes use. */
export interface ProbedRouter {
  routeOffline(query: string, options?: RouteOptions): RouteResult;
  /** Resolves once the router has learned every change so far (probes never read a half-trained model). */
  whenTrained(): Promise<void>;
}

export interface ProbeRegistry {
  list(): readonly RegisteredAgent[];
  onChange(listener: () => void): () => void;
}

/** The timers probes use; the real ones by default. */
export interface ProbeTimers {
  /**
   * A timer that does not keep the process alive (the debounce and the interval), unless `keepAlive`: a rest
   * inside a run, which someone may be awaiting (`runNow`).
   */
  setTimeout(callback: () => void, ms: number, keepAlive?: boolean): unknown;
  clearTimeout(handle: unknown): void;
  /** Yield a turn of the event loop between slices (when there is no rest to take). */
  yield(): Promise<void>;
}

export interface CapabilityProbesOptions {
  registry: ProbeRegistry;
  router: ProbedRouter;
  /** Wait this long after the last registry change before probing (default 2 s). */
  debounceMs?: number;
  /** Also probe this often (default 10 minutes; 0 only after changes). */
  intervalMs?: number;
  /** Longest stretch of routing before yielding (default 4 ms). */
  sliceMs?: number;
  /**
   * The share of the event loop a run may take, in (0, 1] (default 0.25): after a slice of `s` ms it rests
   * `s × (1 / cpuShare − 1)` ms. 1 only yields a turn between slices.
   */
  cpuShare?: number;
  now?: () => Date;
  /** Reads the CPU clock for the slice budget (default `performance.now`). */
  cpuNow?: () => number;
  timers?: ProbeTimers;
  logger?: Logger;
}

/** An agent "mostly goes elsewhere" when more than half of its examples are routed to other agents. */
export function isMisrouted(report: ProbeReport): boolean {
  const stolen = Object.values(report.stolen_by).reduce((sum, n) => sum + n, 0);
  return report.examples > 0 && stolen * 2 > report.examples;
}

/** The share of the event loop a probe run takes at most, by default. */
export const DEFAULT_CPU_SHARE = 0.25;

/** Examples checked for overlap at registration, at most (the rest are left to the probes). */
export const MAX_OVERLAP_EXAMPLES = 200;

const REAL_TIMERS: ProbeTimers = {
  setTimeout: (callback, ms, keepAlive = false) => {
    const handle = setTimeout(callback, ms);
    if (!keepAlive) handle.unref();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  yield: () => new Promise((resolve) => setImmediate(resolve)),
};

export class CapabilityProbes {
  private readonly reports = new Map<string, ProbeReport>();
  private readonly timers: ProbeTimers;
  private readonly logger: Logger;
  private readonly now: () => Date;
  private readonly cpuNow: () => number;
  private readonly debounceMs: number;
  private readonly intervalMs: number;
  private readonly sliceMs: number;
  private readonly cpuShare: number;
  private debounce: unknown;
  /** The rest after a slice, under way: `stop` cuts it short. */
  private resting: { handle: unknown; wake: () => void } | undefined;
  private interval: unknown;
  private unsubscribe: (() => void) | undefined;
  /** Bumped by every change: a run started before the latest change stops and leaves the next to it. */
  private generation = 0;
  private running: Promise<void> | undefined;
  private stopped = false;
  private settledWaiters: (() => void)[] = [];
  /** Runs completed, and the CPU time the last one took (in slices, not counting the waits between). */
  private runs = 0;
  private updates = 0;
  private lastRunCpuMs = 0;
  private longestSliceMs = 0;
  /** The digest of the reports as they were at `updates` = `digestAt` (recomputed only after a change). */
  private digestCache = '';
  private digestAt = -1;

  constructor(private readonly options: CapabilityProbesOptions) {
    this.timers = options.timers ?? REAL_TIMERS;
    this.logger = options.logger ?? silentLogger();
    this.now = options.now ?? (() => new Date());
    this.cpuNow = options.cpuNow ?? (() => performance.now());
    this.debounceMs = options.debounceMs ?? 2000;
    this.intervalMs = options.intervalMs ?? 600_000;
    this.sliceMs = options.sliceMs ?? 4;
    this.cpuShare = options.cpuShare ?? DEFAULT_CPU_SHARE;
    if (!(this.cpuShare > 0 && this.cpuShare <= 1)) {
      throw new RangeError(`cpuShare must be in (0, 1], not ${this.cpuShare}`);
    }
  }

  /** Probe soon, then after every registry change and on the interval. */
  start(): void {
    if (this.unsubscribe !== undefined || this.stopped) return;
    this.unsubscribe = this.options.registry.onChange(() => this.schedule());
    this.schedule();
  }

  /** Stop the timers; a run in progress stops at its next slice. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.timers.clearTimeout(this.debounce);
    this.timers.clearTimeout(this.interval);
    this.debounce = undefined;
    this.generation++;
    if (this.resting !== undefined) {
      this.timers.clearTimeout(this.resting.handle);
      this.resting.wake();
    }
    await this.running;
    this.notifySettled();
  }

  /** Grows whenever a report changes, so views built from the reports can be cached until then. */
  get version(): number {
    return this.updates;
  }

  /**
   * A short digest of what the reports say: each agent's examples, routed_here and stolen_by, not when they
   * were checked. Two replicas whose probes found the same have the same digest, so a validator built from
   * the store revision and this digest agrees across replicas, and changes when any finding changes.
   */
  get digest(): string {
    if (this.digestAt !== this.updates) {
      // Names in code-unit order (not the locale's), so every replica orders them alike.
      const findings = [...this.reports.keys()].sort().map((name) => {
        const report = this.reports.get(name)!;
        const stolen = Object.keys(report.stolen_by).sort();
        return [name, report.examples, report.routed_here, stolen.map((by) => [by, report.stolen_by[by]])];
      });
      this.digestCache = createHash('sha256')
        .update(JSON.stringify(findings))
        .digest('base64url')
        .slice(0, 16);
      this.digestAt = this.updates;
    }
    return this.digestCache;
  }

  /** The agent's last check, or null before its first. */
  report(name: string): ProbeReport | null {
    return this.reports.get(name) ?? null;
  }

  /** Agents whose examples now mostly go to other agents, by name. */
  misrouted(): string[] {
    return [...this.reports]
      .filter(([, report]) => isMisrouted(report))
      .map(([name]) => name)
      .sort();
  }

  stats(): { runs: number; lastRunCpuMs: number; longestSliceMs: number; agents: number } {
    return {
      runs: this.runs,
      lastRunCpuMs: round(this.lastRunCpuMs),
      longestSliceMs: round(this.longestSliceMs),
      agents: this.reports.size,
    };
  }

  /** Resolves once no probe is scheduled by a change or running (the interval timer does not count). */
  settled(): Promise<void> {
    if (this.debounce === undefined && this.running === undefined) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  /**
   * The agents that already answer `examples` (a registration's, before it is stored): for each, how many of
   * them the current registry routes to it. The first MAX_OVERLAP_EXAMPLES examples are checked.
   */
  overlaps(examples: readonly string[]): Overlap[] {
    const counts = new Map<string, number>();
    for (const example of examples.slice(0, MAX_OVERLAP_EXAMPLES)) {
      for (const name of this.route(example)) counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    return [...counts]
      .map(([agent, n]) => ({ agent, examples: n }))
      .sort((a, b) => b.examples - a.examples || a.agent.localeCompare(b.agent));
  }

  /** Probe every agent now (after the router has learned the registry); resolves when done or superseded. */
  async runNow(): Promise<void> {
    this.timers.clearTimeout(this.debounce);
    this.debounce = undefined;
    await this.run();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.generation++;
    this.timers.clearTimeout(this.debounce);
    this.debounce = this.timers.setTimeout(() => {
      this.debounce = undefined;
      void this.run();
    }, this.debounceMs);
  }

  private scheduleInterval(): void {
    this.timers.clearTimeout(this.interval);
    if (this.intervalMs <= 0 || this.stopped) return;
    this.interval = this.timers.setTimeout(() => {
      this.interval = undefined;
      void this.run();
    }, this.intervalMs);
  }

  private run(): Promise<void> {
    // One run at a time: a run asked for meanwhile follows the one in progress.
    const previous = this.running ?? Promise.resolve();
    const next = previous.then(() => this.probeAll());
    const tracked = next
      .catch((error: unknown) =>
        this.logger.error({ err: error }, `capability probes failed: ${messageOf(error)}`),
      )
      .finally(() => {
        if (this.running === tracked) this.running = undefined;
        this.scheduleInterval();
        this.notifySettled();
      });
    this.running = tracked;
    return tracked;
  }

  private async probeAll(): Promise<void> {
    if (this.stopped) return;
    await this.options.router.whenTrained();
    const generation = this.generation;
    const agents = this.options.registry.list().map(toRoutable);
    const known = new Set(agents.map((agent) => agent.name));
    for (const name of this.reports.keys()) {
      if (!known.has(name) && this.reports.delete(name)) this.updates++;
    }
    let cpu = 0;
    let sliceStart = this.cpuNow();
    for (const agent of agents) {
      if (!agent.enabled || !agent.available) {
        if (this.reports.delete(agent.name)) this.updates++;
        continue;
      }
      const report: ProbeReport = { examples: 0, routed_here: 0, stolen_by: {}, checked_at: '' };
      for (const example of agentExamples(agent)) {
        const elapsed = this.cpuNow() - sliceStart;
        if (elapsed >= this.sliceMs) {
          cpu += elapsed;
          this.longestSliceMs = Math.max(this.longestSliceMs, elapsed);
          const restMs = elapsed * (1 / this.cpuShare - 1);
          await (restMs > 0 ? this.rest(restMs) : this.timers.yield());
          // A change meanwhile: this run's answers are stale, the run the change scheduled takes over.
          if (this.generation !== generation || this.stopped) return;
          sliceStart = this.cpuNow();
        }
        report.examples++;
        const selected = this.route(example);
        if (selected.includes(agent.name)) report.routed_here++;
        else for (const name of selected) report.stolen_by[name] = (report.stolen_by[name] ?? 0) + 1;
      }
      report.checked_at = this.now().toISOString();
      this.reports.set(agent.name, report);
      this.updates++;
    }
    const elapsed = this.cpuNow() - sliceStart;
    this.longestSliceMs = Math.max(this.longestSliceMs, elapsed);
    this.lastRunCpuMs = cpu + elapsed;
    this.runs++;
    const misrouted = this.misrouted();
    if (misrouted.length > 0) {
      this.logger.warn(
        { misrouted },
        `capability probes: examples of ${misrouted.join(', ')} mostly go elsewhere`,
      );
    }
  }

  /** Resolves after `ms` (a timer: requests run meanwhile), or at once when `stop` is called. */
  private rest(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.resting = undefined;
        resolve();
      };
      this.resting = { handle: this.timers.setTimeout(wake, ms, true), wake };
    });
  }

  private route(example: string): string[] {
    try {
      return this.options.router.routeOffline(example).selected;
    } catch {
      // An example the router refuses (too long) routes nowhere.
      return [];
    }
  }

  private notifySettled(): void {
    if (this.debounce !== undefined || this.running !== undefined) return;
    for (const resolve of this.settledWaiters.splice(0)) resolve();
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
