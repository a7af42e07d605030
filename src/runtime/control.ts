import { setTimeout as sleep } from 'node:timers/promises';
import { readPidfile } from './pidfile.js';
import { readProcStat } from './proc-stat.js';

/** True while `pid` is a live process (a zombie, dead but not yet reaped, counts as gone). */
export async function isAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const stat = await readProcStat(pid);
  return stat !== undefined && stat.state !== 'Z';
}

/** `supervisor --reload PIDFILE`: SIGHUP to the emperor, which reloads every vassal. */
export function reloadByPidfile(pidfile: string): number {
  const pid = readPidfile(pidfile);
  process.kill(pid, 'SIGHUP');
  return pid;
}

/** `supervisor --reopen-logs PIDFILE`: SIGUSR2 to the emperor, which reopens its log files (after logrotate). */
export function reopenLogsByPidfile(pidfile: string): number {
  const pid = readPidfile(pidfile);
  process.kill(pid, 'SIGUSR2');
  return pid;
}

/**
 * `supervisor --stop PIDFILE`: SIGINT (which always stops, whatever die-on-term says, as uWSGI's --stop does),
 * then waits until the emperor has exited. Throws if it is still alive after `timeoutMs`.
 */
export async function stopByPidfile(pidfile: string, timeoutMs: number): Promise<number> {
  const pid = readPidfile(pidfile);
  try {
    process.kill(pid, 'SIGINT');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') throw new Error(`no process ${pid} (from ${pidfile}): the emperor is not running`);
    throw err;
  }
  const deadline = Date.now() + timeoutMs;
  while (await isAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`emperor ${pid} still running ${timeoutMs / 1000} s after SIGINT`);
    await sleep(20);
  }
  return pid;
}
