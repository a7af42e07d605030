import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // End-to-end tests start real processes; give them room on a loaded 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Vitest's default on 2 cores is one worker (cores - 1): the files would run one after another. The end-to-end
    // tests spend most of their time waiting for processes, so two at a time fit on 2 cores.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
