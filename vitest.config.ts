import { defineConfig } from 'vitest/config';

// The fault matrix (one stack per service, each mostly waiting on injected faults, timeouts and
// redeliveries) runs after everything else, six files at once: it needs little CPU, and run two
// at a time beside the CPU-bound suites it would double the wall time of `npm test`.
const FAULT_MATRIX = 'test/integration/fault-matrix-*.test.ts';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'suite',
          include: ['test/**/*.test.ts'],
          exclude: [FAULT_MATRIX],
          // Two cores: integration suites start servers and child processes; keep the pool small.
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'fault-matrix',
          include: [FAULT_MATRIX],
          maxWorkers: 6,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
