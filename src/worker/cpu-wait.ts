import { readFileSync } from 'node:fs';
import { forEachThread } from './process-tree.js';

/**
 * How long the worker `pid` has waited for a CPU, in ms: the longest run-queue wait of any thread of the process or
 * of its descendants, from the second field of /proc/PID/task/TID/schedstat (nanoseconds spent runnable but not
 * running; proc(5), CONFIG_SCHED_INFO). The longest, not the sum: threads wait side by side, and the one that waited
 * most is the one a start was held up by at least. Undefined when the kernel does not keep the figure or the process
 * is gone. Read it only while the worker is unreaped: its pid may name another process afterwards.
 */
export function cpuWaitMs(pid: number): number | undefined {
  let longest: number | undefined;
  forEachThread(pid, (owner, tid) => {
    let text: string;
    try {
      text = readFileSync(`/proc/${owner}/task/${tid}/schedstat`, 'utf8');
    } catch {
      return;
    }
    const waitedNs = Number(text.split(' ')[1]);
    if (Number.isFinite(waitedNs)) longest = Math.max(longest ?? 0, waitedNs / 1e6);
  });
  return longest;
}
