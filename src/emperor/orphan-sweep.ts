import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { readProcStat } from '../runtime/proc-stat.js';
import { runIsGone } from '../runtime/run-record.js';
import { listRuns, removeRunDir, type RunEntry } from '../runtime/runtime-dir.js';
import { groupMembers, signalGroup } from '../worker/process-group.js';

/**
 * Environment variable every worker carries: the id of the emperor run that started it (set last in the exec chain,
 * so no `env` line of a vassal can set or remove it).
 */
export const EMPEROR_MARKER = 'SUPERVISOR_EMPEROR';

export interface Orphan {
  readonly pid: number;
  readonly pgid: number;
  readonly command: string;
}

/** What a sweep found and did. */
export interface SweepResult {
  /** Earlier runs of this emperor (gone, sharing a lock key) whose leftovers were killed, by run id. */
  readonly swept: ReadonlyMap<string, readonly Orphan[]>;
  /** Run directories removed (gone runs: ours, and others' with nothing left alive). */
  readonly removed: readonly string[];
  /** Gone runs of other emperors with processes still alive: left for their own emperor's next start. */
  readonly kept: readonly string[];
}

/**
 * Cleans up after earlier runs, once this run holds its locks. Acts only on runs that are provably gone (pid dead,
 * or alive with another start time): a live emperor's workers are never touched. A gone run that shares a lock key
 * with `keys` was an earlier run of this emperor: the processes that still carry its id (descendants of its workers
 * that outlived the parent-death signal, holding its sockets) are SIGKILLed with their process groups, then its
 * directory is removed. A gone run of another emperor only loses its directory, and only if nothing carries its id.
 */
export async function sweepEarlierRuns(keys: readonly string[]): Promise<SweepResult> {
  const gone: { run: RunEntry; ours: boolean }[] = [];
  for (const run of listRuns()) {
    // A run directory without a readable record was never an emperor's (records are written before the directory
    // appears): gone, and nobody's earlier run.
    if (run.record && !(await runIsGone(run.record))) continue;
    gone.push({ run, ours: run.record?.keys.some((k) => keys.includes(k)) ?? false });
  }
  const swept = new Map<string, Orphan[]>();
  const removed: string[] = [];
  const kept: string[] = [];
  if (gone.length === 0) return { swept, removed, kept };
  const carriers = await processesByRun(new Set(gone.map((g) => g.run.id)));
  for (const { run, ours } of gone) {
    const orphans = carriers.get(run.id) ?? [];
    if (ours && orphans.length > 0) {
      await killOrphans(orphans);
      swept.set(run.id, orphans);
    } else if (orphans.length > 0) {
      kept.push(run.id);
      continue;
    }
    removeRunDir(run);
    removed.push(run.id);
  }
  return { swept, removed, kept };
}

/** Live processes (not zombies, not this one) whose environment carries one of `ids`, by run id. Read from /proc. */
async function processesByRun(ids: ReadonlySet<string>): Promise<Map<string, Orphan[]>> {
  const found = new Map<string, Orphan[]>();
  const prefix = `${EMPEROR_MARKER}=`;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const environ = await readFile(`/proc/${entry}/environ`, 'utf8');
      const id = environ.split('\0').find((v) => v.startsWith(prefix))?.slice(prefix.length);
      if (id === undefined || !ids.has(id)) continue;
      const stat = await readProcStat(entry);
      if (!stat || stat.state === 'Z') continue;
      const command = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').join(' ').trim();
      found.set(id, [...(found.get(id) ?? []), { pid: Number(entry), pgid: stat.pgrp, command }]);
    } catch {
      // Gone, or not ours to read.
    }
  }
  return found;
}

/**
 * SIGKILLs every orphan and its process group and waits (up to timeoutMs) until they are gone. Never our own group,
 * nor group 0 or 1.
 */
export async function killOrphans(orphans: readonly Orphan[], timeoutMs = 5000): Promise<void> {
  const own = (await readProcStat(process.pid))?.pgrp;
  const groups = [...new Set(orphans.map((o) => o.pgid))].filter((g) => g > 1 && g !== own);
  for (const pgid of groups) signalGroup(pgid, 'SIGKILL');
  for (const o of orphans) {
    try {
      process.kill(o.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (const pgid of groups) {
    while (Date.now() < deadline && (await groupMembers(pgid)).length > 0) await sleep(20);
  }
}
