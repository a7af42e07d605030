// The scale workload's harness on a small fleet, with real emperors and workers: every figure it reports is
// measured (non-zero where it must be, consistent with the others), and it leaves no process and no file behind.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type ScaleResult, scaleSupervisor, tenantAccount } from '../../bench/scale.mjs';
import { isRoot } from '../support/test-users.js';

/** Processes whose command line names `dir` (the fleet's idle worker lives there). */
function processesIn(dir: string): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

function expectMeasured(r: ScaleResult, vassals: number): void {
  expect(r.skipped).toBeUndefined();
  expect(r.problems).toEqual([]);
  expect(r.spawnedMs).toBeGreaterThan(0);
  // The last worker to be ready was spawned before it was ready.
  expect(r.readyMs).toBeGreaterThanOrEqual(r.spawnedMs);
  // Node workers take CPU to start: the floor is that CPU over the cores, and none was missed.
  expect(r.cpuUnread).toBe(0);
  expect(r.workerCpuMs).toBeGreaterThan(0);
  expect(r.floorMs).toBeLessThanOrEqual(r.workerCpuMs);
  expect(r.emperorStartCpuMs).toBeGreaterThan(0);
  expect(r.pssKiB).toBeGreaterThan(0);
  expect(r.pssKiB).toBeLessThanOrEqual(r.rssKiB);
  expect(r.allRssKiB).toBeGreaterThan(r.rssKiB);
  expect(r.idleCpuMsPer30s).toBeGreaterThanOrEqual(0);
  expect(r.reloadMs).toBeGreaterThan(0);
  expect(r.stopMs).toBeGreaterThan(0);
  expect(r.leftovers).toBe(0);
  expect(r.vassals).toBe(vassals);
  expect(existsSync(r.dir)).toBe(false);
  expect(processesIn(r.dir)).toEqual([]);
}

describe('scale workload', () => {
  it('measures a small fleet of idle Node workers in the default mode, and cleans up', async () => {
    expectMeasured(await scaleSupervisor({ vassals: 3, workers: 2, program: 'node', idleSeconds: 1 }), 3);
  });

  it.runIf(isRoot && tenantAccount() !== undefined)('measures the same fleet in tyrant mode (files owned by the test user)', async () => {
    const r = await scaleSupervisor({ vassals: 2, workers: 2, program: 'node', idleSeconds: 1, tyrant: true });
    expect(r.tyrant).toBe(true);
    expectMeasured(r, 2);
  });
});
