import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export const TASKSET = '/usr/bin/taskset';

/** Busy loops that keep one CPU to themselves; `stop()` ends them all. */
export interface CpuHogs {
  readonly pids: readonly number[];
  stop(): Promise<void>;
}

/**
 * `count` shell busy loops pinned to CPU `cpu` (taskset), each its own session (so its own autogroup, as a worker's
 * is): a process pinned to that CPU beside them gets about 1/(count + 1) of it and waits in the run queue the rest.
 */
export function cpuHogs(count: number, cpu: number): CpuHogs {
  const children: ChildProcess[] = [];
  for (let i = 0; i < count; i++) children.push(spawn(TASKSET, ['-c', String(cpu), '/bin/sh', '-c', 'while :; do :; done'], { detached: true, stdio: 'ignore' }));
  return {
    pids: children.map((c) => c.pid as number),
    async stop() {
      await Promise.all(
        children.map(async (child) => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const gone = once(child, 'exit');
          child.kill('SIGKILL');
          await gone;
        }),
      );
    },
  };
}
