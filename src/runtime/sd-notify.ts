import { createRequire } from 'node:module';
import type { DgramSocket as DgramSocketType } from 'node-unix-socket';

/**
 * The emperor's side of systemd's notify protocol (sd_notify(3)), for a `Type=notify` unit: `READY=1` once start-up
 * is complete, `RELOADING=1` + `MONOTONIC_USEC=` on a reload, `STOPPING=1`, `STATUS=` lines, and `WATCHDOG=1`
 * keep-alives when systemd asks for them (`WATCHDOG_USEC`, for this pid in `WATCHDOG_PID`).
 */

/** What systemd told the emperor through its environment (systemd.exec(5), sd_watchdog_enabled(3)). */
export interface NotifyTarget {
  /** Path of systemd's datagram socket, or undefined when not started by systemd with Type=notify. */
  readonly socket: string | undefined;
  /** Watchdog interval in microseconds, or undefined when the unit has no WatchdogSec= (or it is not for us). */
  readonly watchdogUsec: number | undefined;
}

/**
 * Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID for process `pid`. An abstract socket (`@name`) is not
 * supported by the datagram binding we use; it is reported by returning it as is (send() then fails, logged).
 */
export function notifyTarget(env: Readonly<Record<string, string | undefined>>, pid: number): NotifyTarget {
  const watchdogPid = env.WATCHDOG_PID === undefined ? pid : Number(env.WATCHDOG_PID);
  const usec = Number(env.WATCHDOG_USEC);
  return {
    socket: env.NOTIFY_SOCKET || undefined,
    watchdogUsec: watchdogPid === pid && Number.isSafeInteger(usec) && usec > 0 ? usec : undefined,
  };
}

/** A notify message: one `KEY=VALUE` per line; a value cannot hold a line break (it is replaced by a space). */
export function formatNotify(fields: Readonly<Record<string, string | number>>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k}=${String(v).replace(/\n/g, ' ')}`)
    .join('\n');
}

/** The monotonic clock in microseconds, as MONOTONIC_USEC wants it (CLOCK_MONOTONIC, like process.hrtime). */
export function monotonicUsec(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

let binding: typeof DgramSocketType | undefined;

/** Sends notify messages to systemd; every method is a no-op when there is no NOTIFY_SOCKET. Never throws. */
export class SystemdNotifier {
  readonly #target: NotifyTarget;
  readonly #onError: (err: Error) => void;
  #status: NodeJS.Timeout | undefined;
  #socket: DgramSocketType | undefined;
  #watchdog: NodeJS.Timeout | undefined;

  constructor(target: NotifyTarget, onError: (err: Error) => void) {
    this.#target = target;
    this.#onError = onError;
  }

  get enabled(): boolean {
    return this.#target.socket !== undefined;
  }

  send(fields: Readonly<Record<string, string | number>>): void {
    const dest = this.#target.socket;
    if (dest === undefined) return;
    try {
      binding ??= (createRequire(import.meta.url)('node-unix-socket') as { DgramSocket: typeof DgramSocketType }).DgramSocket;
      if (!this.#socket) {
        this.#socket = new binding();
        this.#socket.on('error', (err: Error) => this.#onError(err));
      }
      const buf = Buffer.from(formatNotify(fields));
      this.#socket.sendTo(buf, 0, buf.length, dest, (err) => {
        if (err) this.#onError(new Error(`sd_notify to ${dest}: ${err.message}`));
      });
    } catch (err) {
      this.#onError(err as Error);
    }
  }

  /** Starts WATCHDOG=1 pings at half the interval systemd asked for (as sd_watchdog_enabled(3) advises). */
  startWatchdog(): void {
    const usec = this.#target.watchdogUsec;
    if (usec === undefined || this.#watchdog || !this.enabled) return;
    const everyMs = Math.min(2 ** 31 - 1, Math.max(1, Math.floor(usec / 2000)));
    this.#watchdog = setInterval(() => this.send({ WATCHDOG: 1 }), everyMs);
    this.#watchdog.unref();
  }

  /**
   * Keeps STATUS= current: `describe()` is called every `everyMs` (ms) and sent when it changed, so that `systemctl
   * status` shows what runs now, not what ran at start. Nothing is called without a notify socket.
   */
  keepStatus(describe: () => string, everyMs = 10_000): void {
    if (this.#status || !this.enabled) return;
    // READY=1 has just said the current line: send only what changes from it.
    let last = describe();
    this.#status = setInterval(() => {
      const line = describe();
      if (line !== last) this.send({ STATUS: line });
      last = line;
    }, everyMs);
    this.#status.unref();
  }

  close(): void {
    clearInterval(this.#watchdog);
    clearInterval(this.#status);
    this.#status = undefined;
    this.#watchdog = undefined;
    this.#socket?.close();
    this.#socket = undefined;
  }
}
