import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** The kernel has session autogroups (sched(7)): /proc/PID/autogroup exists. */
export const HAS_AUTOGROUP = existsSync('/proc/self/autogroup');

/** One thread of a process, with its nice value. */
export interface ThreadNice {
  readonly pid: number;
  readonly tid: number;
  readonly nice: number;
  /** The process's argv, joined by spaces (for failure messages and to tell processes apart). */
  readonly cmd: string;
}

/** The fields of a /proc stat line from field 3 (state) on: the command name may hold spaces and ")". */
function statFields(text: string): string[] {
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Every thread of every live process in session `sid` (a detached child's pid), with its nice value: field 19 of
 * /proc/PID/task/TID/stat (proc(5)). Found by a scan of /proc for the session, not by a walk of the process tree,
 * so it does not share the walk the code under test makes.
 */
export function sessionThreads(sid: number): ThreadNice[] {
  const threads: ThreadNice[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = read(`/proc/${entry}/stat`);
    if (stat === undefined) continue;
    const fields = statFields(stat);
    // fields[0] is field 3 (state), so field 6 (session) is fields[3].
    if (Number(fields[3]) !== sid || fields[0] === 'Z') continue;
    const pid = Number(entry);
    const cmd = (read(`/proc/${pid}/cmdline`) ?? '').split('\0').filter(Boolean).join(' ');
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      const taskStat = read(`/proc/${pid}/task/${tid}/stat`);
      // Field 19 (nice) is fields[16].
      if (taskStat !== undefined) threads.push({ pid, tid: Number(tid), nice: Number(statFields(taskStat)[16]), cmd });
    }
  }
  return threads;
}

/** The processes (by argv) of session `sid`, sorted. */
export function sessionCommands(sid: number): string[] {
  return [...new Map(sessionThreads(sid).map((t) => [t.pid, t.cmd])).values()].sort();
}

/** The nice value of a process's autogroup (`/autogroup-42 nice 19`), or undefined without one. */
export function autogroupNice(pid: number | 'self'): number | undefined {
  const match = / nice (-?\d+)/.exec(read(`/proc/${pid}/autogroup`) ?? '');
  return match ? Number(match[1]) : undefined;
}

/** `threads` that are not at `nice`, as readable lines (an empty list when all are). */
export function notAt(threads: readonly ThreadNice[], nice: number): string[] {
  return threads.filter((t) => t.nice !== nice).map((t) => `${t.cmd} (pid ${t.pid}, tid ${t.tid}): nice ${t.nice}`);
}
