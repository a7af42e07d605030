// cpuWaitMs on real processes: a tree whose busy child shares a pinned CPU with busy loops waits in the run queue.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cpuWaitMs } from '../../src/worker/cpu-wait.js';
import { cpuHogs, TASKSET, type CpuHogs } from '../support/cpu-hogs.js';

let hogs: CpuHogs | undefined;
const trees: number[] = [];

afterEach(async () => {
  await hogs?.stop();
  hogs = undefined;
  for (const pid of trees.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Gone.
    }
  }
});

/** The run-queue wait of one thread, read here apart from the code under test. */
function threadWaitMs(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e6;
}

describe('cpuWaitMs', () => {
  it("reports the longest CPU wait in a worker's tree: a busy grandchild on a crowded CPU, below an idle parent", async () => {
    hogs = cpuHogs(3, 0);
    // The parent sleeps; its child spins on CPU 0 beside the three hogs, so it waits about 3/4 of the time.
    const tree = spawn(TASKSET, ['-c', '0', '/bin/sh', '-c', '/bin/sh -c "while :; do :; done" & echo $!; wait'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
    trees.push(tree.pid as number);
    const [line] = (await once(tree.stdout!, 'data')) as [Buffer];
    const spinner = Number(line.toString().trim());
    const started = Date.now();
    await vi.waitFor(() => expect(cpuWaitMs(tree.pid as number)).toBeGreaterThan(300), { timeout: 20_000, interval: 50 });
    const waited = cpuWaitMs(tree.pid as number) as number;
    // It is the spinner's wait (the parent's own is far less), and no more than the time the tree has lived.
    expect(waited).toBeGreaterThanOrEqual(threadWaitMs(spinner) - 50);
    expect(threadWaitMs(tree.pid as number)).toBeLessThan(waited);
    expect(waited).toBeLessThanOrEqual(Date.now() - started + 1000);
  });

  it('is undefined for a pid that names no process', async () => {
    const child = spawn('/bin/true');
    await once(child, 'exit');
    expect(cpuWaitMs(child.pid as number)).toBeUndefined();
  });
});
