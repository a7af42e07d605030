// The scale workload's harness on a small fleet, with real emperors and workers: every figure it reports is
// measured (non-zero where it must be, consistent with the others), and it leaves no process and no file behind.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
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
  // By the emperor's own clock too; and a record is written before it is read (the two clocks are taken a moment
  // apart when the emperor is started, hence the few ms).
  expect(r.spawnedOwnMs).toBeGreaterThan(0);
  expect(r.readyOwnMs).toBeGreaterThanOrEqual(r.spawnedOwnMs);
  expect(r.spawnedOwnMs).toBeLessThanOrEqual(r.spawnedMs + 5);
  expect(r.readyOwnMs).toBeLessThanOrEqual(r.readyMs + 5);
  // Node workers take CPU to start: the floor is that CPU over the cores, and none was missed.
  expect(r.cpuUnread).toBe(0);
  expect(r.workerCpuMs).toBeGreaterThan(0);
  expect(r.floorMs).toBeLessThanOrEqual(r.workerCpuMs);
  expect(r.emperorStartCpuMs).toBeGreaterThan(0);
  expect(r.pssKiB).toBeGreaterThan(0);
  expect(r.pssKiB).toBeLessThanOrEqual(r.rssKiB);
  expect(r.allRssKiB).toBeGreaterThan(r.rssKiB);
  expect(r.idleCpuMsPer30s).toBeGreaterThanOrEqual(0);
  expect(r.laterIdleCpuMsPer30s).toBeGreaterThanOrEqual(0);
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

  it('gives up at once, with its progress, when the emperor dies during the start', async () => {
    const run = scaleSupervisor({ vassals: 20, workers: 1, program: 'sleep', idleSeconds: 1 });
    // The emperor is this process's child running bin/supervisor.js on a bench-scale directory.
    const emperor = await vi.waitFor(
      () => {
        const [pid] = processesIn('bench-scale-').filter((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('supervisor.js') && readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]?.split(' ')[1] === String(process.pid));
        if (pid === undefined) throw new Error('no emperor yet');
        return pid;
      },
      { timeout: 30_000, interval: 20 },
    );
    const killedAt = Date.now();
    process.kill(emperor, 'SIGKILL');
    await expect(run).rejects.toThrow(/the emperor exited early.*\(after \d+ s: \d+ of 20 workers spawned/);
    // Well before the start's deadline (120 s).
    expect(Date.now() - killedAt).toBeLessThan(30_000);
  });

  it.runIf(isRoot && tenantAccount() !== undefined)('measures the same fleet in tyrant mode (files owned by the test user)', async () => {
    const r = await scaleSupervisor({ vassals: 2, workers: 2, program: 'node', idleSeconds: 1, tyrant: true });
    expect(r.tyrant).toBe(true);
    expectMeasured(r, 2);
  });
});
