import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setImmediate as immediate, setTimeout as sleep } from 'node:timers/promises';
import type { Readable, Writable } from 'node:stream';
import { spawn, type StdioOptions } from 'node:child_process';
import type { Logger } from 'pino';
import { planLaunch, type LaunchRequest } from './launch-plan.js';
import { runtimeDir } from '../runtime/runtime-dir.js';
import { NotifySocket } from './notify-socket.js';
import { OutputTail } from './output-tail.js';
import { VassalOutput, type WorkerOutput } from '../logs/vassal-output.js';
import { groupMembers, signalGroup } from './process-group.js';
import type { StopRequestResult } from './stop-fifo.js';
import type { StartPriority } from './start-priority.js';
import { cpuWaitMs } from './cpu-wait.js';
import { readyTimeLeft, RECHECK_AT_LEAST_MS } from './ready-clock.js';

/** How a worker says it is ready. */
export type Readiness =
  /**
   * s6's protocol: the worker writes a newline on fd `LaunchRequest.notificationFd`; or `byte` instead (uWSGI's
   * emperor protocol: 5 when its first worker accepts requests).
   */
  | { readonly kind: 'fd'; readonly byte?: number }
  /** systemd's protocol: the worker sends READY=1 to its NOTIFY_SOCKET. */
  | { readonly kind: 'notify-socket' }
  /** Fallback: ready once it has stayed up this long. */
  | { readonly kind: 'uptime'; readonly afterMs: number };

export interface WorkerOptions {
  readonly launch: LaunchRequest;
  readonly readiness: Readiness;
  /** Not ready within this time counts as failed to start (systemd's TimeoutStartSec). */
  readonly readyTimeoutMs: number;
  /** Where its stdout and stderr go (src/logs/): a vassal's output; by default, lines in the emperor's log. */
  readonly output?: WorkerOutput;
  /** nice-until-ready: the emperor's start priority, which may lower this worker's until it is ready. */
  readonly startPriority?: StartPriority;
}

/** How a worker process ended. */
export interface WorkerExit {
  /** Exit status, or null when killed by a signal (or never started). */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** True when the process group had to be SIGKILLed after the mercy time. */
  readonly forced: boolean;
  /** True when the exit followed stop(); false for a crash or an exit on its own. */
  readonly requested: boolean;
  readonly uptimeMs: number;
  /** Set when the process could not be started at all (e.g. ENOENT). */
  readonly spawnError?: string;
}

/**
 * Asks the worker to stop in its own way (stop-fifo: writes to a FIFO it reads) instead of sending the stop signal;
 * says whether that was delivered. Called once, when the stop begins.
 */
export type StopRequest = () => StopRequestResult;

/** systemd's KillMode values that apply to a worker: who gets the stop signal. */
export type KillMode = 'control-group' | 'mixed';

export type ReadyResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'exited' | 'stopped' }
  /**
   * Not ready in time: `afterMs` on the wall clock since the spawn, `setupMs` of it until the chain was let run its
   * setup text (its stdin closed), `cpuWaitMs` of it waiting for a CPU (when the kernel says).
   */
  | { readonly ok: false; readonly reason: 'timeout'; readonly afterMs: number; readonly setupMs?: number; readonly cpuWaitMs?: number };

/** Describes an exit for logs: "exit code 3", "signal SIGKILL". */
export function describeExit(exit: WorkerExit): string {
  if (exit.spawnError) return `could not start: ${exit.spawnError}`;
  return exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}

let notifySockets = 0;

// How often to look for group members left after the worker itself exited; only while stopping.
const GROUP_POLL_MS = 25;
// After SIGKILL the group dies within milliseconds; this only bounds the wait if /proc says otherwise.
const AFTER_KILL_WAIT_MS = 5000;
// How often a stop request that could not be delivered yet is tried again, while the mercy time runs.
const REQUEST_RETRY_MS = 100;

/**
 * One worker process: started in its own process group (setsid), with its sockets and readiness channel.
 * It reports readiness and exit, and stops on request; it never restarts itself (that is the vassal's policy).
 */
export class Worker {
  readonly id: number;
  readonly generation: number;
  readonly startedAt = Date.now();
  /** Resolves once: ready, or the reason it never will be. */
  readonly ready: Promise<ReadyResult>;
  /** Resolves when the worker process itself has exited (its group may live a little longer while stopping). */
  readonly exited: Promise<WorkerExit>;
  readonly #pid: number | undefined;
  readonly #tail = new OutputTail();
  readonly #log: Logger;
  readonly #notify: NotifySocket | undefined;
  #stopRequested = false;
  #forced = false;
  #stopping: Promise<WorkerExit> | undefined;
  /** Node has reaped the process: from then on its pid may name another one. */
  #reaped = false;
  /** When its chain was let run its setup text (its stdin closed): the start of its ready-timeout. */
  #setupAt: number | undefined;
  /** Resolves once its chain has been let run its setup text; never, if the worker dies first. */
  readonly #delivered: Promise<void>;
  /** nice-until-ready: it is no longer starting (ready, stopped or gone); idempotent. */
  #endStart: (() => void) | undefined;

  constructor(options: WorkerOptions, log: Logger) {
    this.id = options.launch.workerId;
    this.generation = options.launch.generation;
    let notifyReady: (() => void) | undefined;
    const notified = new Promise<void>((resolve) => (notifyReady = resolve));
    let launch = options.launch;
    const output = options.output ?? new VassalOutput({ vassal: launch.vassal, log, tyrant: false }).forWorker();
    if (output.directFd !== undefined) launch = { ...launch, outputFd: output.directFd };
    if (options.readiness.kind === 'notify-socket') {
      const creds = launch.credentials;
      this.#notify = new NotifySocket(
        path.join(runtimeDir(), `notify-${process.pid}-${++notifySockets}.sock`),
        (fields) => this.#onNotify(fields, notifyReady),
        creds ? { uid: creds.uid, gid: creds.gid } : undefined,
      );
      launch = { ...launch, notifySocket: this.#notify.path };
    }
    let plan;
    try {
      // This process spawns the chain: a chain that finds another parent when its shell starts was orphaned.
      plan = planLaunch({ ...launch, parentPid: process.pid });
    } catch (err) {
      this.#notify?.close();
      throw err;
    }
    // Node's own spawn, not execa: a supervisor spawns many workers, and execa's import (about 14 MiB) and its
    // per-spawn work buy nothing here (output is streamed, exits are watched, the chain's paths are absolute).
    let child;
    try {
      child = spawn(plan.file, plan.args, {
        cwd: plan.cwd,
        env: plan.env,
        stdio: plan.stdio as StdioOptions,
        // Its own session and process group: a stop reaches its children too.
        detached: true,
      });
    } catch (err) {
      // Errors other than a missing program throw (E2BIG, EINVAL): nothing was started.
      this.#notify?.close();
      if ((err as NodeJS.ErrnoException).code === 'E2BIG') {
        throw new Error("the worker's environment and arguments are more than the kernel takes for one program (E2BIG)");
      }
      throw err;
    }
    this.#pid = child.pid;
    // Before the go-ahead: until the shell has it the chain is one thread, so all the program starts inherits this.
    const startToken = options.startPriority?.begin(child.pid, () => !this.#reaped);
    // The setup text (environment, directory) is in the chain's environment; it waits for end of file on stdin. A
    // worker that dies first closes the pipe, which must not become an error nobody listens to.
    const setup = child.stdin as Writable | null;
    setup?.on('error', () => {});
    // The worker's start, its ready-timeout and its ready-after, begin at the end of file. A start outside a storm
    // gets it at once: destroy() closes the pipe now, so a hot-add's first worker does not wait for its second's
    // spawn. In a storm (or with no storm counted) it comes when this event loop comes round, once the batch of spawns
    // is done: the batch's workers then sleep while the emperor forks, and its forks are not kept from a CPU.
    if (setup && startToken && !startToken.storm) {
      setup.destroy();
      this.#setupAt = Date.now();
      this.#delivered = Promise.resolve();
    } else {
      this.#delivered = setup ? new Promise((resolve) => setup.once('finish', resolve)).then(() => void (this.#setupAt = Date.now())) : Promise.resolve();
      setup?.end();
    }
    this.#log = log.child({ worker: this.id, pid: child.pid, generation: this.generation });

    const streams = [['stdout', child.stdout], ['stderr', child.stderr]] as ['stdout' | 'stderr', Readable | null][];
    const who = { worker: this.id, generation: this.generation, pid: child.pid, log: this.#log, tail: (lines: string[]) => this.#tail.add(lines) };
    for (const [stream, source] of streams) if (source) output.attach(stream, source, who);

    this.exited = new Promise<WorkerExit>((resolve) => {
      const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError?: string): void => {
        resolve({ code, signal, forced: this.#forced, requested: this.#stopRequested, uptimeMs: Date.now() - this.startedAt, spawnError });
      };
      child.on('exit', (code, signal) => {
        this.#reaped = true;
        finish(code, signal);
      });
      // The exec of setpriv failed (it is missing): no process ever ran.
      child.on('error', (err) => finish(null, null, `${plan.file}: ${err.message}`));
    });

    this.ready = this.#watchReadiness(options, child.stdio[launch.notificationFd ?? -1] as NodeJS.ReadableStream | undefined, notified);
    if (startToken) {
      this.#endStart = () => options.startPriority?.end(startToken);
      void this.ready.then(this.#endStart);
    }
    void this.exited.then((exit) => {
      this.#notify?.close();
      this.#log.info(
        { event: 'worker.exit', code: exit.code, signal: exit.signal, forced: exit.forced, requested: exit.requested, uptimeMs: exit.uptimeMs },
        `worker ${this.id} ${describeExit(exit)}`,
      );
    });
    this.#log.info({ event: 'worker.spawn', argv: launch.argv }, `worker ${this.id} spawned`);
  }

  get pid(): number | undefined {
    return this.#pid;
  }

  /** Resident memory of the worker process, in bytes; undefined once it is gone. Reads /proc/PID/status. */
  async rssBytes(): Promise<number | undefined> {
    if (this.#pid === undefined) return undefined;
    try {
      const status = await readFile(`/proc/${this.#pid}/status`, 'utf8');
      const kib = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
      return kib === undefined ? undefined : Number(kib) * 1024;
    } catch {
      return undefined;
    }
  }

  /** The last lines the worker printed (stdout and stderr interleaved), for failure reports. */
  outputTail(): string[] {
    return this.#tail.lines();
  }

  #onNotify(fields: Map<string, string>, ready: (() => void) | undefined): void {
    const status = fields.get('STATUS');
    if (status !== undefined) this.#log.info({ event: 'worker.status', status }, `worker ${this.id}: ${status}`);
    if (fields.get('READY') === '1') ready?.();
  }

  async #watchReadiness(options: WorkerOptions, notification: NodeJS.ReadableStream | undefined, notified: Promise<void>): Promise<ReadyResult> {
    const controller = new AbortController();
    const { signal } = controller;
    const signalled = new Promise<ReadyResult>((resolve) => {
      if (options.readiness.kind === 'notify-socket') {
        void notified.then(() => resolve({ ok: true }));
        return;
      }
      if (options.readiness.kind === 'uptime') {
        const { afterMs } = options.readiness;
        this.#delivered.then(() => sleep(afterMs, undefined, { signal })).then(
          () => resolve({ ok: true }),
          () => {},
        );
        return;
      }
      const byte = options.readiness.byte ?? 0x0a;
      notification?.on('data', (chunk: Buffer | string) => {
        if (Buffer.from(chunk).includes(byte)) resolve({ ok: true });
      });
    });
    // On abort (the race is over) the value is never read.
    const timedOut = this.#readyTimeout(options.readyTimeoutMs, signal).catch((): ReadyResult => ({ ok: false, reason: 'stopped' }));
    const exited = this.exited.then((): ReadyResult => ({ ok: false, reason: this.#stopRequested ? 'stopped' : 'exited' }));
    const result = await Promise.race([signalled, timedOut, exited]);
    controller.abort();
    if (result.ok) {
      this.#log.info({ event: 'worker.ready', afterMs: Date.now() - this.startedAt, by: options.readiness.kind }, `worker ${this.id} ready`);
    }
    return result;
  }

  /**
   * Resolves with a timeout once the worker has had `timeoutMs` to get ready from the delivery of its setup text,
   * not counting its waits for a CPU (ready-clock.ts); rejects when `signal` aborts. The wait is read only when the
   * deadline comes, so a worker costs one timer.
   */
  async #readyTimeout(timeoutMs: number, signal: AbortSignal): Promise<ReadyResult> {
    let left = timeoutMs;
    for (;;) {
      await sleep(left, undefined, { signal });
      // Timers run before the event loop polls its descriptors: an emperor held up (a storm of synchronous spawns)
      // comes back to expired deadlines while the readiness its workers sent waits unread. One turn of the loop reads
      // it first; a worker that was ready in time then wins the race this rejects.
      await immediate(undefined, { signal });
      const waited = this.#pid === undefined || this.#reaped ? undefined : cpuWaitMs(this.#pid);
      const now = Date.now();
      left = readyTimeLeft(timeoutMs, now - (this.#setupAt ?? this.startedAt), waited);
      if (left === 0) {
        const setup = this.#setupAt === undefined ? {} : { setupMs: this.#setupAt - this.startedAt };
        return { ok: false, reason: 'timeout', afterMs: now - this.startedAt, ...setup, ...(waited === undefined ? {} : { cpuWaitMs: Math.round(waited) }) };
      }
      left = Math.max(left, RECHECK_AT_LEAST_MS);
    }
  }

  /**
   * Stops the worker and its process group. `control-group`: `signal` to the whole group, then SIGKILL to the group
   * once `mercyMs` has passed with any member (the worker or a descendant that stayed in its group) still alive.
   * `mixed` (for programs that manage their own children, like uWSGI's master): `signal` to the worker only, SIGKILL
   * to whatever is left of the group when it has exited or the mercy time is up. Idempotent; resolves with the
   * worker's exit once the group is gone. `request`, when given and delivered, takes the place of the signal.
   */
  stop(signal: NodeJS.Signals, mercyMs: number, mode: KillMode = 'control-group', request?: StopRequest): Promise<WorkerExit> {
    this.#stopping ??= this.#stopGroup(signal, mercyMs, mode, request);
    return this.#stopping;
  }

  async #stopGroup(signal: NodeJS.Signals, mercyMs: number, mode: KillMode, request: StopRequest | undefined): Promise<WorkerExit> {
    this.#stopRequested = true;
    // A worker stopped before it was ready is no longer starting, and shuts down at the emperor's priority.
    this.#endStart?.();
    const pgid = this.#pid;
    if (pgid === undefined) return this.exited;
    // A stop the program asked for (stop-fifo) replaces the signal; the mercy time and SIGKILL stay as they are.
    const asked = request?.();
    const via = asked?.ok ? { request: 'written' } : asked ? { request: 'failed', reason: asked.reason } : {};
    this.#log.info({ event: 'worker.stop', signal, mercyMs, killMode: mode, ...via }, `stopping worker ${this.id}${asked && !asked.ok ? ` (stop request failed: ${asked.reason}; sending ${signal})` : ''}`);
    const deadline = Date.now() + mercyMs;
    if (asked?.ok) {
      // Delivered: the worker stops on its own.
    } else if (mode === 'mixed') {
      try {
        process.kill(pgid, signal);
      } catch {
        // Already gone; its group is dealt with below.
      }
    } else {
      signalGroup(pgid, signal);
    }
    // The mercy timer is cancelled when the worker exits first: a stop leaves no timer behind for the mercy time.
    const mercy = new AbortController();
    const retrying = request && asked && !asked.ok && asked.retry ? this.#retryRequest(request, mercy.signal) : undefined;
    await Promise.race([this.exited, sleep(mercyMs, undefined, { signal: mercy.signal }).catch(() => undefined)]);
    mercy.abort();
    await retrying;
    if (mode === 'control-group') {
      while (Date.now() < deadline && (await groupMembers(pgid)).length > 0) await sleep(GROUP_POLL_MS);
    }
    const left = await groupMembers(pgid);
    if (left.length > 0) {
      const leaderLeft = left.includes(pgid);
      // A leftover descendant after a clean exit of the worker is expected in mixed mode, not a forced stop.
      this.#forced = leaderLeft || mode === 'control-group';
      const why = leaderLeft ? `still running ${mercyMs} ms after ${asked?.ok ? 'its stop request' : signal}` : `exited, leaving ${left.length} process(es) in its group`;
      this.#log.warn({ event: 'worker.kill', mercyMs, left }, `worker ${this.id} ${why}: SIGKILL to its process group`);
      signalGroup(pgid, 'SIGKILL');
    }
    const killDeadline = Date.now() + AFTER_KILL_WAIT_MS;
    while (Date.now() < killDeadline && (await groupMembers(pgid)).length > 0) await sleep(GROUP_POLL_MS);
    // The worker may have exited on the signal while a descendant needed the SIGKILL: report the group's fate.
    return { ...(await this.exited), forced: this.#forced };
  }

  /**
   * Tries a stop request that could not be delivered yet again every REQUEST_RETRY_MS, until it is delivered, fails
   * for good, or `until` aborts (the worker exited, or the mercy time is up). The signal sent meanwhile may not have
   * stopped the program: uWSGI's master makes its FIFO only once its workers are spawned, and until then a SIGINT
   * lands in Python's own handler, which only sets a flag; without this the master ran on until the SIGKILL.
   */
  async #retryRequest(request: StopRequest, until: AbortSignal): Promise<void> {
    const since = Date.now();
    while (!until.aborted) {
      await sleep(REQUEST_RETRY_MS, undefined, { signal: until }).catch(() => undefined);
      if (until.aborted) return;
      const again = request();
      if (again.ok) {
        this.#log.info({ event: 'worker.stop-request', request: 'written', afterMs: Date.now() - since }, `worker ${this.id}: stop request delivered on a later try`);
        return;
      }
      if (!again.retry) return;
    }
  }
}
