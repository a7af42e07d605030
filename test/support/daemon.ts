import { randomUUID } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import { execa } from 'execa';
import { afterEach, vi } from 'vitest';
import type { LogRecord } from './emperor.js';
import { isAlive, processesWithEnv } from './processes.js';

/**
 * Commands that leave a daemon behind (`daemonize`), as systemd runs a Type=forking unit's ExecStart=: run to their
 * exit, then the daemon is found by its pidfile. Every command run here carries a tag of its own (SV_TEST_TAG) in its
 * environment, which the daemon and its workers inherit: after each test, whatever carries a tag of that test is
 * killed, so no daemon outlives its test, whether the test passed or not.
 */

const tags = new Set<string>();

/** Registers the teardown: call once at the top of a test file that runs daemons. */
export function killDaemonsAfterEach(): void {
  afterEach(async () => {
    const mine = [...tags];
    tags.clear();
    await killTagged(mine);
  });
}

/** A new tag for a process this test starts (SV_TEST_TAG): whatever carries it is killed after the test. */
export function newTag(): string {
  const tag = randomUUID();
  tags.add(tag);
  return tag;
}

/** SIGKILLs every live process carrying one of `tagList` (daemons first: their workers die with them). */
async function killTagged(tagList: readonly string[]): Promise<void> {
  const live = (): number[] => tagList.flatMap((tag) => processesWithEnv('SV_TEST_TAG', tag));
  await vi.waitFor(
    () => {
      for (const pid of live()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      if (live().length > 0) throw new Error(`still alive: ${live().join(' ')}`);
    },
    { timeout: 20_000, interval: 50 },
  );
}

/** Live processes started by the command run with `tag` (the daemon, its workers and their children). */
export function tagged(tag: string): number[] {
  return processesWithEnv('SV_TEST_TAG', tag);
}

export interface CommandResult {
  readonly code: number | undefined;
  readonly signal: string | undefined;
  readonly stdout: string;
  readonly stderr: string;
  /** From spawning the command to its exit, in ms. */
  readonly ms: number;
  /** The command's own pid (for a daemonizing command: the parent, gone by now). */
  readonly pid: number;
  /** Its SV_TEST_TAG, carried by everything it started. */
  readonly tag: string;
}

/**
 * Runs `argv` to its exit (at most `timeoutMs`), with `env` added to this process's environment. `fds`: descriptors
 * of this process the command gets as its fd 3, 4, ... (as systemd passes a socket unit's sockets).
 */
export async function runToExit(
  argv: readonly string[],
  options: { env?: Record<string, string>; cwd?: string; fds?: readonly number[]; timeoutMs?: number } = {},
): Promise<CommandResult> {
  const tag = newTag();
  const started = performance.now();
  const child = execa(argv[0]!, argv.slice(1), {
    env: { ...options.env, SV_TEST_TAG: tag },
    cwd: options.cwd,
    // A number is a descriptor the child gets as is (execa's types do not take it for extra fds).
    stdio: ['ignore', 'pipe', 'pipe', ...((options.fds ?? []) as unknown as 'ignore'[])],
    reject: false,
    stripFinalNewline: false,
    timeout: options.timeoutMs ?? 90_000,
  });
  const result = await child;
  return {
    code: result.exitCode,
    signal: result.signal,
    stdout: String(result.stdout),
    stderr: String(result.stderr),
    ms: performance.now() - started,
    pid: child.pid ?? -1,
    tag,
  };
}

/** The JSON records of an emperor's log file (its daemonize/logto file); lines that are not JSON are skipped. */
export function logRecords(file: string): LogRecord[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      return [JSON.parse(line) as LogRecord];
    } catch {
      return [];
    }
  });
}

/** Records of `event` in a log file, optionally of one vassal. */
export function logEvents(file: string, event: string, vassal?: string): LogRecord[] {
  return logRecords(file).filter((r) => r.event === event && (vassal === undefined || r.vassal === vassal));
}

/** Waits until the log file has at least `count` records of `event`; resolves with them. */
export async function waitForEvents(file: string, event: string, count = 1, timeoutMs = 60_000): Promise<LogRecord[]> {
  return vi.waitFor(
    () => {
      const found = logEvents(file, event);
      if (found.length < count) throw new Error(`${found.length} of ${count} ${event} records in ${file} so far`);
      return found;
    },
    { timeout: timeoutMs, interval: 50 },
  );
}

/** A process's session id and parent (fields 6 and 4 of /proc/PID/stat). */
export function sessionOf(pid: number): { sid: number; ppid: number } {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(fields[1]), sid: Number(fields[3]) };
}

/** Where a process's descriptor points (readlink of /proc/PID/fd/N). */
export function fdTarget(pid: number, fd: number): string {
  return readlinkSync(`/proc/${pid}/fd/${fd}`);
}

/** Resolves once a connection to the unix socket or TCP port is accepted by the kernel (it listens); rejects otherwise. */
export function connects(target: { path: string } | { host: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = 'path' in target ? net.connect(target.path) : net.connect(target.port, target.host);
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}

/** Waits until `pid` has exited (up to timeoutMs). */
export async function waitForExit(pid: number, timeoutMs = 60_000): Promise<void> {
  await vi.waitFor(
    () => {
      if (isAlive(pid)) throw new Error(`${pid} is still alive`);
    },
    { timeout: timeoutMs, interval: 50 },
  );
}
