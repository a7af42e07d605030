import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { readProcStat } from '../runtime/proc-stat.js';
import { groupMembers, signalGroup } from '../worker/process-group.js';

/** Environment variable every worker carries: which emperor (by its configuration) started it. */
export const EMPEROR_MARKER = 'SUPERVISOR_EMPEROR';

export interface Orphan {
  readonly pid: number;
  readonly pgid: number;
  readonly command: string;
}

/**
 * Processes left by an earlier run of the same emperor: they carry its marker in their environment but the emperor
 * that started them is gone (it was SIGKILLed, so its workers got the parent-death signal, but descendants that
 * stayed alive may still hold the sockets). Read from /proc; processes we may not inspect are skipped.
 */
export async function findOrphans(marker: string): Promise<Orphan[]> {
  const needle = `${EMPEROR_MARKER}=${marker}`;
  const orphans: Orphan[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const environ = await readFile(`/proc/${entry}/environ`, 'utf8');
      if (!environ.split('\0').includes(needle)) continue;
      const stat = await readProcStat(entry);
      if (!stat || stat.state === 'Z') continue;
      const command = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').join(' ').trim();
      orphans.push({ pid: Number(entry), pgid: stat.pgrp, command });
    } catch {
      // Gone, or not ours to read.
    }
  }
  return orphans;
}

/** SIGKILLs every orphan's process group and waits (up to timeoutMs) until they are gone. */
export async function killOrphans(orphans: readonly Orphan[], timeoutMs = 5000): Promise<void> {
  const groups = [...new Set(orphans.map((o) => o.pgid))];
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
