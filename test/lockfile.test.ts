// npm ci refuses a package-lock.json that lacks an entry for any optional dependency a package declares. Some of
// node-unix-socket's platform binaries are not on the registry, so `npm install` leaves them out of the lock; the
// lock carries stub entries for them (README, design notes). This test says so at once if a lock rewrite drops them.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const lock = JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8')) as {
  packages: Record<string, { optionalDependencies?: Record<string, string>; optional?: boolean }>;
};

describe('package-lock.json', () => {
  it("has an entry for every optional dependency of node-unix-socket (else npm ci fails)", () => {
    const declared = Object.keys(lock.packages['node_modules/node-unix-socket']?.optionalDependencies ?? {});
    expect(declared.length).toBeGreaterThan(0);
    const missing = declared.filter((name) => !lock.packages[`node_modules/${name}`]);
    expect(missing, 'restore the stub entries in package-lock.json (see README, design notes)').toEqual([]);
  });
});
