import { readdirSync, readFileSync } from 'node:fs';
import { parseProcStat } from '../../src/runtime/proc-stat.js';

/** True while `pid` is a live process (zombies count as dead). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).state !== 'Z';
  } catch {
    return false;
  }
}

/** Live processes whose environment says they belong to vassal files under `dir` (set by the supervisor). */
export function processesWithEnv(name: string, value: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const env = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      if (env.includes(`${name}=${value}`) && isAlive(Number(entry))) found.push(Number(entry));
    } catch {
      // Gone or not ours to read.
    }
  }
  return found;
}
