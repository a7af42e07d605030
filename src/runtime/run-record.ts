import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseProcStat, readProcStat } from './proc-stat.js';

/**
 * Which run of the emperor a process belongs to. Every emperor run has a random id; its record, in its run
 * directory under the runtime root (written only by the emperor's user), says which process the run is and what
 * it guards, so that a later run can tell a run that is gone from one that is alive, and its own earlier runs from
 * other emperors'.
 */
export interface RunRecord {
  /** The emperor's pid. */
  readonly pid: number;
  /** Its start time (field 22 of /proc/PID/stat): a pid reused later does not pass for this run. */
  readonly startTime: string;
  /** The keys of the locks the run held (emperor-lock.ts): runs that share one guarded the same thing. */
  readonly keys: readonly string[];
}

/** Run ids: 16 lowercase hex digits (64 random bits). */
export const RUN_ID = /^[0-9a-f]{16}$/;

export function newRunId(): string {
  return randomBytes(8).toString('hex');
}

/** The record of this process, holding `keys`. */
export function ownRunRecord(keys: readonly string[]): RunRecord {
  return { pid: process.pid, startTime: parseProcStat(readFileSync('/proc/self/stat', 'utf8')).startTime, keys: [...keys] };
}

export function formatRunRecord(record: RunRecord): string {
  return `${JSON.stringify({ pid: record.pid, startTime: record.startTime, keys: record.keys })}\n`;
}

/** Parses a record; undefined for anything that is not one (a damaged or foreign file). Pure. */
export function parseRunRecord(text: string): RunRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const v = value as { pid?: unknown; startTime?: unknown; keys?: unknown };
  if (typeof v !== 'object' || v === null) return undefined;
  if (!Number.isInteger(v.pid) || (v.pid as number) <= 0) return undefined;
  if (typeof v.startTime !== 'string' || !/^\d+$/.test(v.startTime)) return undefined;
  if (!Array.isArray(v.keys) || !v.keys.every((k) => typeof k === 'string')) return undefined;
  return { pid: v.pid as number, startTime: v.startTime, keys: v.keys as string[] };
}

/**
 * Whether the run is provably gone: its pid is dead (or a zombie), or the pid now belongs to a process that started
 * at another time. A run whose pid is alive with the same start time is alive, whatever else is true.
 */
export async function runIsGone(record: RunRecord): Promise<boolean> {
  const stat = await readProcStat(record.pid);
  return stat === undefined || stat.state === 'Z' || stat.startTime !== record.startTime;
}
