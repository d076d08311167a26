import { describe, expect, it } from 'vitest';
import { BackgroundTrainer, type TrainingJob } from '../../src/routing/background-trainer.js';

/** A job of `steps` units, one unit per `advance` call; records its commit. */
function countingJob(steps: number, log: string[], name: string): TrainingJob {
  let done = 0;
  return {
    advance: () => ++done >= steps,
    commit: () => log.push(`commit ${name} after ${done}`),
  };
}

describe('BackgroundTrainer', () => {
  it('runs queued jobs in slices between turns of the event loop, committing each when done', async () => {
    const log: string[] = [];
    const jobs = [countingJob(3, log, 'a'), countingJob(2, log, 'b')];
    const trainer = new BackgroundTrainer({ nextJob: () => jobs.shift() }, { sliceMs: 0, onError: () => {} });
    expect(trainer.busy).toBe(false);
    await trainer.whenIdle();
    trainer.wake();
    trainer.wake();
    expect(trainer.busy).toBe(true);
    expect(log).toEqual([]);
    let turns = 0;
    const idle = trainer.whenIdle().then(() => log.push('idle'));
    while (log.at(-1) !== 'idle') {
      await new Promise<void>((resolve) => setImmediate(resolve));
      turns++;
    }
    await idle;
    expect(log).toEqual(['commit a after 3', 'commit b after 2', 'idle']);
    expect(turns).toBeGreaterThanOrEqual(5);
    expect(trainer.running).toBe(false);
  });

  it('stops for good: the job under way is dropped, waiters are released, later wakes do nothing', async () => {
    const log: string[] = [];
    const jobs = [countingJob(1_000_000, log, 'endless'), countingJob(1, log, 'next')];
    const trainer = new BackgroundTrainer({ nextJob: () => jobs.shift() }, { sliceMs: 0, onError: () => {} });
    trainer.wake();
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(trainer.running).toBe(true);
    const idle = trainer.whenIdle();
    trainer.stop();
    await idle;
    expect(trainer.running).toBe(false);
    trainer.wake();
    expect(trainer.busy).toBe(false);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(log).toEqual([]);
    expect(jobs).toHaveLength(1);
  });

  it('drains synchronously on demand', () => {
    const log: string[] = [];
    const jobs = [countingJob(4, log, 'a')];
    const trainer = new BackgroundTrainer({ nextJob: () => jobs.shift() }, { sliceMs: 1, onError: () => {} });
    trainer.drain();
    expect(log).toEqual(['commit a after 4']);
  });

  it('reports a failing job, drops it and settles its waiters', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const failing: TrainingJob = {
      advance: () => {
        throw new Error('broken');
      },
      commit: () => {},
    };
    const trainer = new BackgroundTrainer(
      { nextJob: () => (calls++ === 0 ? failing : undefined) },
      { sliceMs: 5, onError: (error) => errors.push(error) },
    );
    trainer.wake();
    await trainer.whenIdle();
    expect(errors).toEqual([new Error('broken')]);
    expect(trainer.running).toBe(false);
  });

  it('paces slices while changes keep arriving, and runs flat out once they stop', async () => {
    const log: string[] = [];
    const jobs = [countingJob(3, log, 'a')];
    const trainer = new BackgroundTrainer(
      { nextJob: () => jobs.shift() },
      { sliceMs: 0, busyPauseMs: 1_000_000, onError: () => {} },
    );
    trainer.wake();
    // The first slice follows a change, so the next one waits for the (here endless) pause.
    for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
    expect(log).toEqual([]);
    expect(trainer.running).toBe(true);
    trainer.stop();

    const paced = [countingJob(3, log, 'b')];
    const short = new BackgroundTrainer(
      { nextJob: () => paced.shift() },
      { sliceMs: 0, busyPauseMs: 1, onError: () => {} },
    );
    short.wake();
    await short.whenIdle();
    expect(log).toEqual(['commit b after 3']);
  });
});
