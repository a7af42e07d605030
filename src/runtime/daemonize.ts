import { spawn } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { DAEMON_FD_VARIABLE } from './daemon-channel.js';
import type { Readable } from 'node:stream';

/**
 * `daemonize = LOGFILE`: the emperor in the background, as a systemd `Type=forking` unit wants it. The starting
 * command (the parent) starts the daemon (a new session, stdin on /dev/null, stdout and stderr on the log file) and
 * returns only when the daemon says it is up, or with the daemon's reason for failing on its stderr, having left
 * nothing running. uWSGI's parent returns before its daemon has even written its pidfile; systemd then reads no
 * pidfile, or an old one.
 */

export interface DaemonStart {
  /** Where the daemon's stdout and stderr go (its own log is configured apart, through logto/daemonize). */
  readonly logFile: string;
  /** The command line the daemon runs (this program's, the same arguments). */
  readonly script: string;
  readonly args: readonly string[];
  /** Descriptors handed on as the daemon's fd 3, 4, ... (systemd's sockets, when LISTEN_PID was ours). */
  readonly passFds: readonly number[];
  readonly env: NodeJS.ProcessEnv;
}

export type DaemonResult = { readonly ok: true; readonly pid: number } | { readonly ok: false; readonly message: string };

/**
 * Starts the daemon and waits until it is up or has failed. The log file is created 0640 if missing (the umask
 * can only narrow that) and appended to. Resolves with the daemon's pid, or with its reason for failing; never
 * leaves a failed daemon running.
 */
export function startDaemon(start: DaemonStart): Promise<DaemonResult> {
  let log: number;
  try {
    log = openSync(start.logFile, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOCTTY, 0o640);
  } catch (err) {
    return Promise.resolve({ ok: false, message: `cannot open the log file ${start.logFile}: ${(err as Error).message}` });
  }
  const channelFd = 3 + start.passFds.length;
  const child = spawn(process.execPath, [...process.execArgv, start.script, ...start.args], {
    detached: true,
    stdio: ['ignore', log, log, ...start.passFds, 'pipe'],
    env: { ...start.env, [DAEMON_FD_VARIABLE]: String(channelFd) },
  });
  closeSync(log);
  return new Promise((resolve) => {
    let said = '';
    let settled = false;
    const finish = (result: DaemonResult): void => {
      if (settled) return;
      settled = true;
      if (result.ok) child.unref();
      resolve(result);
    };
    const channel = child.stdio[channelFd] as Readable | null;
    channel?.setEncoding('utf8');
    channel?.on('data', (chunk: string) => {
      said += chunk;
      const line = said.split('\n')[0] ?? '';
      if (!said.includes('\n')) return;
      if (line.startsWith('ready ')) {
        channel.destroy();
        finish({ ok: true, pid: child.pid ?? Number(line.slice(6)) });
      } else {
        finish({ ok: false, message: line.replace(/^error /, '') });
        // Whatever it was doing, it is not up: nothing is left running.
        child.kill('SIGKILL');
      }
    });
    channel?.on('error', () => {});
    child.on('error', (err) => finish({ ok: false, message: `cannot start the daemon: ${err.message}` }));
    child.on('exit', (code, signal) => {
      finish({ ok: false, message: `the daemon ${signal ? `was killed by ${signal}` : `exited with code ${code}`} before it was up; see ${start.logFile}` });
    });
  });
}
