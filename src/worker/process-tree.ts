import { readdirSync, readFileSync } from 'node:fs';

/**
 * Visits every thread of process `root` and of its descendants, breadth first, through /proc/PID/task (proc(5)) and
 * each thread's children list (/proc/PID/task/TID/children, CONFIG_PROC_CHILDREN). Stops after `limit` threads, so a
 * worker that forked thousands of processes cannot hold the emperor up. Processes and threads that go away meanwhile
 * are skipped. Without CONFIG_PROC_CHILDREN only the root's own threads are visited. Synchronous: one read per thread.
 */
export function forEachThread(root: number, limit: number, visit: (pid: number, tid: number) => void): void {
  const queue = [root];
  let walked = 0;
  while (queue.length > 0 && walked < limit) {
    const pid = queue.shift() as number;
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const name of tids) {
      if (++walked > limit) break;
      visit(pid, Number(name));
      try {
        for (const child of readFileSync(`/proc/${pid}/task/${name}/children`, 'utf8').split(' ')) if (child.trim()) queue.push(Number(child));
      } catch {
        // Gone since the listing, or no CONFIG_PROC_CHILDREN.
      }
    }
  }
}
