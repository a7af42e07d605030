import { existsSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import path from 'node:path';
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

/**
 * The emperor a `--reload`/`--stop`/`--reopen-logs` argument names: a pidfile, or a pid (digits only, naming no
 * existing file), as a systemd unit passes `$MAINPID`. Throws Error naming the file or pid when it is unusable.
 */
export function targetPid(target: string): number {
  if (/^\d+$/.test(target) && !existsSync(target)) {
    const pid = Number(target);
    if (!Number.isSafeInteger(pid) || pid <= 1) throw new Error(`${target} is not a pid an emperor can have`);
    return pid;
  }
  return readPidfile(target);
}

/**
 * Whether process `pid` runs this same program (its script, followed through links, is this process's): true, or
 * what it is instead, to complete "process PID ...". For a signal that must not reach whoever has a reused pid.
 */
export function runsThisProgram(pid: number): true | string {
  let argv: string[];
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return 'is not running';
  }
  const own = process.argv[1] && realpathOrUndefined(process.argv[1]);
  const cwd = readCwd(pid) ?? '/';
  // The script is the first word after Node's own options (`node --enable-source-maps bin/supervisor.js ...`).
  const scriptArg = argv.slice(1).find((a) => a !== '' && !a.startsWith('-'));
  const script = scriptArg && realpathOrUndefined(path.resolve(cwd, scriptArg));
  if (own && script === own) return true;
  return `is not a supervisor emperor (it runs ${JSON.stringify(argv.filter(Boolean).join(' ').slice(0, 200))})`;
}

function realpathOrUndefined(file: string): string | undefined {
  try {
    return realpathSync(file);
  } catch {
    return undefined;
  }
}

function readCwd(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

/** `supervisor --reload PIDFILE|PID`: SIGHUP to the emperor, which reloads every vassal. */
export function reloadByPidfile(pidfile: string): number {
  const pid = targetPid(pidfile);
  process.kill(pid, 'SIGHUP');
  return pid;
}

/** `supervisor --reopen-logs PIDFILE|PID`: SIGUSR2 to the emperor, which reopens its log files (after logrotate). */
export function reopenLogsByPidfile(pidfile: string): number {
  const pid = targetPid(pidfile);
  process.kill(pid, 'SIGUSR2');
  return pid;
}

/**
 * `supervisor --stop PIDFILE|PID`: SIGINT (which always stops, whatever die-on-term says, as uWSGI's --stop does),
 * then waits until the emperor has exited. Throws if it is still alive after `timeoutMs`.
 */
export async function stopByPidfile(pidfile: string, timeoutMs: number): Promise<number> {
  const pid = targetPid(pidfile);
  try {
    process.kill(pid, 'SIGINT');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') throw new Error(`no process ${pid}${String(pid) === pidfile ? '' : ` (from ${pidfile})`}: the emperor is not running`);
    throw err;
  }
  const deadline = Date.now() + timeoutMs;
  while (await isAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`emperor ${pid} still running ${timeoutMs / 1000} s after SIGINT`);
    await sleep(20);
  }
  return pid;
}
