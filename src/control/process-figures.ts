import { closeSync, openSync, readSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Memory and CPU of processes, from /proc (proc(5)), sampled when someone asks (a status request, a scrape): nothing
 * here runs on a timer, so an idle emperor stays idle.
 */

/** The fields of /proc/PID/stat used for figures. CPU times in clock ticks, RSS in pages. */
export interface ProcFigures {
  readonly pid: number;
  /** One letter: R, S, D, Z (zombie), T, ... */
  readonly state: string;
  readonly pgrp: number;
  /** Time spent in user and kernel mode by the process itself (fields 14, 15). */
  readonly utime: number;
  readonly stime: number;
  /** The same for its children that have exited and that it waited for (fields 16, 17). */
  readonly cutime: number;
  readonly cstime: number;
  /** Resident set size, in pages (field 24): the same count as VmRSS. */
  readonly rssPages: number;
}

/** Parses /proc/PID/stat; undefined when it does not have the fields. Pure. */
export function parseStatFigures(pid: number, text: string): ProcFigures | undefined {
  // The command name, in parentheses, may itself contain spaces and parentheses: fields count from the last ")".
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const f = text.slice(close + 2).split(' ');
  // f[0] is field 3 (state), so field N of proc(5) is f[N - 3].
  if (f.length < 22) return undefined;
  const n = (i: number): number => Number(f[i]);
  const figures = { pid, state: f[0] ?? '', pgrp: n(2), utime: n(11), stime: n(12), cutime: n(13), cstime: n(14), rssPages: n(21) };
  return Object.values(figures).every((v) => typeof v === 'string' || Number.isFinite(v)) ? figures : undefined;
}

/** Every process's figures at one moment, with the units to read them in. */
export interface ProcessTable {
  readonly processes: ReadonlyMap<number, ProcFigures>;
  /** The same processes by process group. */
  readonly groups: ReadonlyMap<number, readonly ProcFigures[]>;
  /** Bytes per page (RSS is counted in pages). */
  readonly pageSize: number;
  /** Clock ticks per second (CPU times are counted in ticks). */
  readonly ticksPerSecond: number;
}

/** The memory and CPU of one process, or of a process group. */
export interface Usage {
  /** How many processes it counts (1 for a process). */
  readonly processes: number;
  readonly rssBytes: number;
  readonly cpuSeconds: number;
}

/** The figures of one worker: the process itself, and its whole process group (itself and its descendants). */
export interface WorkerUsage {
  /** Undefined when the process is gone (or not readable). */
  readonly self: Usage | undefined;
  readonly group: Usage | undefined;
}

/**
 * The usage of worker `pid` (a process group leader: workers start in their own session). The worker's own CPU is
 * its user and system time. The group's is that of every live member plus what they have reaped of their exited
 * children (a uWSGI master's workers that died count, and are not counted twice, since they are no longer members).
 * Zombies count for nothing (their memory is gone; their time is in their parent's once reaped). Pure.
 */
export function workerUsage(table: ProcessTable, pid: number | undefined): WorkerUsage {
  if (pid === undefined) return { self: undefined, group: undefined };
  const seconds = (ticks: number): number => ticks / table.ticksPerSecond;
  const own = table.processes.get(pid);
  const self = own && own.state !== 'Z' ? { processes: 1, rssBytes: own.rssPages * table.pageSize, cpuSeconds: seconds(own.utime + own.stime) } : undefined;
  let processes = 0;
  let pages = 0;
  let ticks = 0;
  for (const p of table.groups.get(pid) ?? []) {
    if (p.state === 'Z') continue;
    processes++;
    pages += p.rssPages;
    ticks += p.utime + p.stime + p.cutime + p.cstime;
  }
  const group = processes > 0 ? { processes, rssBytes: pages * table.pageSize, cpuSeconds: seconds(ticks) } : undefined;
  return { self, group };
}

// USER_HZ: the unit of the times in /proc/PID/stat, part of the kernel's user-space ABI (100 on every architecture
// Linux runs Node on); Node has no sysconf(_SC_CLK_TCK) to ask.
const USER_HZ = 100;

let pageSize: number | undefined;

/** The base page size, from the kernel's own account of our mappings (Node has no sysconf(_SC_PAGESIZE)). */
async function systemPageSize(): Promise<number> {
  if (pageSize !== undefined) return pageSize;
  try {
    const smaps = await readFile('/proc/self/smaps', 'utf8');
    const kb = /^KernelPageSize:\s+(\d+) kB/m.exec(smaps)?.[1];
    pageSize = kb ? Number(kb) * 1024 : 4096;
  } catch {
    pageSize = 4096;
  }
  return pageSize;
}

/**
 * Reads /proc/PID/stat of every process (a process group's members can only be found that way). A process that
 * exits meanwhile, or that we may not look at, is left out. One small read per process on the host: synchronous (a
 * /proc file never waits on a disk, and the thread pool's round trips cost twice the reads themselves), in batches
 * with a turn of the event loop between them, so that the emperor never stops for more than a batch.
 */
export async function sampleProcesses(): Promise<ProcessTable> {
  const names = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  const figures: ProcFigures[] = [];
  const buffer = Buffer.allocUnsafe(STAT_BYTES);
  for (let i = 0; i < names.length; i += BATCH) {
    if (i > 0) await nextTurn();
    for (const name of names.slice(i, i + BATCH)) {
      const f = parseStatFigures(Number(name), readStat(name, buffer));
      if (f) figures.push(f);
    }
  }
  return processTable(figures, await systemPageSize(), USER_HZ);
}

/** Processes read between two turns of the event loop (about 2 ms on a loaded 2-core VM). */
const BATCH = 64;
/** A stat line is about 300 bytes (the command name is at most 16); the fields used come long before 1 KiB. */
const STAT_BYTES = 1024;

/**
 * /proc/PID/stat in one read (open, read, close: fs.readFile would stat and read until end of file as well). Empty
 * when the process is gone.
 */
function readStat(pid: string, buffer: Buffer): string {
  let fd: number | undefined;
  try {
    fd = openSync(`/proc/${pid}/stat`, 'r');
    return buffer.toString('latin1', 0, readSync(fd, buffer, 0, STAT_BYTES, 0));
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** A ProcessTable of `figures`, indexed by pid and by process group. Pure. */
export function processTable(figures: readonly ProcFigures[], pageSize: number, ticksPerSecond: number): ProcessTable {
  const processes = new Map<number, ProcFigures>();
  const groups = new Map<number, ProcFigures[]>();
  for (const f of figures) {
    processes.set(f.pid, f);
    const group = groups.get(f.pgrp);
    if (group) group.push(f);
    else groups.set(f.pgrp, [f]);
  }
  return { processes, groups, pageSize, ticksPerSecond };
}
