import { readdirSync, readFileSync } from 'node:fs';

/**
 * A walk stops after this many threads: a worker that forked thousands of processes must not hold the emperor up
 * (a walk is synchronous). Its callers live with the cut: nice-until-ready still restores the session's autogroup,
 * and the CPU wait is the longest among the threads read.
 */
export const WALK_LIMIT = 512;

/**
 * Visits every thread of process `root` and of its descendants, breadth first, through /proc/PID/task (proc(5)) and
 * each thread's children list (/proc/PID/task/TID/children, CONFIG_PROC_CHILDREN). Stops after WALK_LIMIT threads.
 * Processes and threads that go away meanwhile are skipped. Without CONFIG_PROC_CHILDREN only the root's own threads
 * are visited. Synchronous: one read per thread.
 */
export function forEachThread(root: number, visit: (pid: number, tid: number) => void): void {
  const queue = [root];
  let walked = 0;
  while (queue.length > 0 && walked < WALK_LIMIT) {
    const pid = queue.shift() as number;
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const name of tids) {
      if (++walked > WALK_LIMIT) break;
      visit(pid, Number(name));
      try {
        for (const child of readFileSync(`/proc/${pid}/task/${name}/children`, 'utf8').split(' ')) if (child.trim()) queue.push(Number(child));
      } catch {
        // Gone since the listing, or no CONFIG_PROC_CHILDREN.
      }
    }
  }
}
