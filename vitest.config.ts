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
      exclude: ['src/cli.ts', 'jarvis_agent/service-cli.ts', '**/*.d.ts'],
      reporter: ['text-summary', 'text', 'json-summary'],
      thresholds: { lines: 90, branches: 90, functions: 90, statements: 90 },
    },
  },
});
