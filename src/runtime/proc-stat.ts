import { readFile } from 'node:fs/promises';

/** The fields of /proc/PID/stat the supervisor uses (proc(5)). */
export interface ProcStat {
  /** One letter: R, S, D, Z (zombie: dead, not yet reaped), T, ... */
  readonly state: string;
  readonly ppid: number;
  readonly pgrp: number;
  /**
   * When the process started, in clock ticks since boot (field 22, `starttime`), as a decimal string (it can exceed
   * 2^53 in theory). With the pid it names one process for good: a pid reused later has a later start time.
   */
  readonly startTime: string;
}

/**
 * Parses /proc/PID/stat. The command name, in parentheses, may itself contain spaces and parentheses, so the
 * fields are counted from the last ")". Pure.
 */
export function parseProcStat(text: string): ProcStat {
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state) of proc(5), so field 22 (starttime) is fields[19].
  return { state: fields[0] ?? '', ppid: Number(fields[1]), pgrp: Number(fields[2]), startTime: fields[19] ?? '' };
}

/** /proc/PID/stat of a process, or undefined when it is gone (or not readable). */
export async function readProcStat(pid: number | string): Promise<ProcStat | undefined> {
  try {
    return parseProcStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}
