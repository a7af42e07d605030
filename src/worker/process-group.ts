import { readdir } from 'node:fs/promises';
import { readProcStat } from '../runtime/proc-stat.js';

/**
 * Sends `signal` to every process in the group led by `pgid`. False when it reached none: the group is gone (ESRCH),
 * or every member is out of our reach (EPERM: a setuid program, under an emperor not running as root). Never throws.
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Pids of the live (non-zombie) members of process group `pgid`, from /proc. kill(-pgid, 0) alone would count
 * zombies, which are dead already and only wait for their new parent to reap them.
 */
export async function groupMembers(pgid: number): Promise<number[]> {
  try {
    process.kill(-pgid, 0);
  } catch {
    return [];
  }
  const members: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readProcStat(name);
    if (stat && stat.pgrp === pgid && stat.state !== 'Z') members.push(Number(name));
  }
  return members;
}
