import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real processes, real fsync and real databases: give slow shared machines room.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts', 'jarvis_agent/**/*.ts'],
      // Entry points only: their logic lives in modules the tests cover (a worker thread's code is invisible
      // to v8 coverage, so the training worker's entry is a few lines that call the covered host).
      exclude: ['src/cli.ts', 'jarvis_agent/service-cli.ts', 'src/routing/training-worker.ts', '**/*.d.ts'],
      reporter: ['text-summary', 'text', 'json-summary'],
      thresholds: { lines: 90, branches: 90, functions: 90, statements: 90 },
    },
  },
});
