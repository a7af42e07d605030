import { writeSync } from 'node:fs';

export interface LogSinkOptions {
  /** Where a failure is reported, once per outage (stderr when the log is not stderr); undefined: nowhere. */
  readonly reportFd?: number;
  /** How long one record may wait for a full pipe or socket (EAGAIN) before it is dropped (ms). */
  readonly busyWaitMs?: number;
  /** Called after writes work again (on a later tick, never inside write) with how many records were dropped. */
  readonly onRecovered?: (dropped: number, error: string) => void;
}

/** Default wait for a full pipe: a stalled log reader may hold up supervision for this long, once per outage. */
export const BUSY_WAIT_MS = 1000;

/**
 * Where the emperor's log records go: synchronous writes to a file descriptor (a supervisor's last words before exit
 * must not wait in a buffer), which never throw. A log that cannot be written (ENOSPC, EIO, EPIPE, a reader that
 * stopped reading) must not stop the supervision it reports on: the failure is reported once where it still can be,
 * later records are dropped and counted, and the count is reported once writing works again.
 *
 * Not sonic-boom (what pino.destination uses): it raises non-EPIPE write errors as an 'error' event that pino
 * re-emits with no listener (a crash), keeps failed data to retry it (memory grows while the disk is full), and
 * waits for ever for a full pipe.
 */
export class LogSink {
  readonly #fd: number;
  readonly #options: LogSinkOptions;
  #failing: { error: string; dropped: number } | undefined;
  /** A record was cut off half-way: the next write starts a new line. */
  #cut = false;
  #dropped = 0;

  constructor(fd: number, options: LogSinkOptions = {}) {
    this.#fd = fd;
    this.#options = options;
  }

  /** Records dropped so far (in all outages). */
  get dropped(): number {
    return this.#dropped;
  }

  /** True while writes fail (since the last one that did not). */
  get failing(): boolean {
    return this.#failing !== undefined;
  }

  /** Writes one record (a whole line). Never throws. */
  write(text: string): void {
    const buf = Buffer.from(this.#cut ? `\n${text}` : text);
    // In an outage no record waits: one attempt each, until one gets through.
    const deadline = this.#failing ? 0 : Date.now() + (this.#options.busyWaitMs ?? BUSY_WAIT_MS);
    let off = 0;
    while (off < buf.length) {
      try {
        off += writeSync(this.#fd, buf, off);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if ((code === 'EAGAIN' || code === 'EINTR') && Date.now() < deadline) {
          pause(2);
          continue;
        }
        this.#fail(err as Error, off);
        return;
      }
    }
    this.#cut = false;
    const recovered = this.#failing;
    if (recovered) {
      this.#failing = undefined;
      setImmediate(() => this.#options.onRecovered?.(recovered.dropped, recovered.error));
    }
  }

  #fail(err: Error, written: number): void {
    if (written > 0) this.#cut = true;
    this.#dropped++;
    if (this.#failing) {
      this.#failing.dropped++;
      return;
    }
    const error = (err as NodeJS.ErrnoException).code ?? err.message;
    this.#failing = { error, dropped: 1 };
    const fd = this.#options.reportFd;
    if (fd === undefined) return;
    try {
      writeSync(
        fd,
        `supervisor: cannot write the log (fd ${this.#fd}): ${err.message}; supervision carries on, log records are dropped until writing works again\n`,
      );
    } catch {
      // Nowhere left to say it.
    }
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread for `ms` (writes are synchronous by design; this only paces retries against a full pipe). */
function pause(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}
