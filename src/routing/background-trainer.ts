/**
 * @module routing/background-trainer
 * Runs training off the request path: jobs advance in short time slices, each followed by a turn of the event
 * loop (`setImmediate`), so requests interleave with a build of any size; a finished job is committed at once.
 *
 * While the registry keeps changing (a bulk registration), a build would be stale before it finished, and its
 * slices would take the event loop from the very requests that make the changes. So when a change arrived since
 * the last slice, the next slice waits `busyPauseMs` first: training then takes about
 * `sliceMs / (sliceMs + busyPauseMs)` of the thread during a burst, and runs flat out again from the first slice
 * with no change before it.
 */

/** Training work that advances in bounded steps, then publishes its result in one synchronous commit. */
export interface TrainingJob {
  /** Works until `deadline` (`performance.now()` time); returns true once the job has finished. */
  advance(deadline: number): boolean;
  commit(): void;
}

export interface JobSource {
  /** The next job to run, or undefined when the model is up to date. */
  nextJob(): TrainingJob | undefined;
}

export interface BackgroundTrainerOptions {
  /** Longest stretch of training between two turns of the event loop. */
  sliceMs: number;
  /** Pause before a slice when the registry changed since the last one (0: none). */
  busyPauseMs?: number;
  onError: (error: unknown) => void;
}

export class BackgroundTrainer {
  private job: TrainingJob | undefined;
  private scheduled = false;
  private stopped = false;
  /** A change arrived since the last slice started. */
  private changed = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private waiters: (() => void)[] = [];
  /** The longest slice so far: how long a request may wait behind training. */
  longestSliceMs = 0;

  constructor(
    private readonly source: JobSource,
    private readonly options: BackgroundTrainerOptions,
  ) {}

  /** True while a job is under way (started, not yet committed). */
  get running(): boolean {
    return this.job !== undefined;
  }

  /** True while a job is under way or a slice is scheduled. */
  get busy(): boolean {
    return this.scheduled || this.job !== undefined;
  }

  /** Schedules a slice unless one is pending: call after every change (of any agent: builds cover all). */
  wake(_agent?: string): void {
    this.changed = true;
    this.schedule(false);
  }

  private schedule(paced: boolean): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    const pause = this.options.busyPauseMs ?? 0;
    if (paced && pause > 0) this.timer = setTimeout(this.slice, pause);
    else setImmediate(this.slice);
  }

  /** Resolves once no work is left (at once when idle). */
  whenIdle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * Stops training for good (the job under way is dropped; the model keeps its last committed state), so a
   * shutting-down process is not kept alive by a build. Waiters are released.
   */
  stop(): void {
    this.stopped = true;
    this.job = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    // A slice already queued still runs, and returns at once.
    this.scheduled = false;
    this.settle();
  }

  /** Runs every pending job to completion now, blocking: for tools and tests that cannot wait. */
  drain(): void {
    this.run(Number.POSITIVE_INFINITY);
  }

  private readonly slice = (): void => {
    this.scheduled = false;
    this.timer = undefined;
    if (this.stopped) return;
    const busy = this.changed;
    this.changed = false;
    const start = performance.now();
    const more = this.run(start + this.options.sliceMs);
    this.longestSliceMs = Math.max(this.longestSliceMs, performance.now() - start);
    if (more) this.schedule(busy);
    else this.settle();
  };

  /** Advances jobs until the deadline; returns whether work is left. */
  private run(deadline: number): boolean {
    try {
      for (;;) {
        this.job ??= this.source.nextJob();
        if (this.job === undefined) return false;
        const finished = this.job.advance(deadline);
        if (finished) {
          const job = this.job;
          this.job = undefined;
          job.commit();
        }
        if (performance.now() >= deadline) return true;
      }
    } catch (error) {
      // A failed job is dropped (the model keeps its last good state); the next change schedules afresh.
      this.job = undefined;
      this.options.onError(error);
      return false;
    }
  }

  private settle(): void {
    if (this.busy && !this.stopped) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
