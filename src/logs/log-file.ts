import { close, fstat, write, writeSync } from 'node:fs';
import type { Opened } from './file-opener.js';
import { countLines, takeLines } from './line-splitter.js';

/** What a LogFile reports to whoever logs about it. Errors are reported once per outage, not once per write. */
export type LogFileEvent =
  | { readonly type: 'failed'; readonly error: string; readonly code: string }
  | { readonly type: 'recovered'; readonly droppedLines: number; readonly droppedBytes: number; readonly error: string }
  | { readonly type: 'reopened' }
  | { readonly type: 'rotated'; readonly renamedTo?: string; readonly pruned: readonly string[] }
  | { readonly type: 'open-failed'; readonly error: string; readonly code: string };

/** Where the file comes from: opened (and reopened, rotated) by path, or a descriptor given once (the emperor's stdout). */
export type FileSource =
  | { readonly kind: 'path'; readonly name: string; open(): Promise<Opened>; rotate(): Promise<Opened> }
  | { readonly kind: 'fd'; readonly name: string; readonly fd: number };

export interface LogFileOptions {
  /** Rotate before the file would pass this many bytes; 0: never (or a source without a path). */
  readonly maxSize?: number;
  /** Above this many queued bytes, `needsDrain` is true: writers that can wait should (default 256 KiB). */
  readonly highWaterBytes?: number;
  /** Above this many queued bytes, writes are dropped and counted: nothing waits, nothing grows (default 4 MiB). */
  readonly capBytes?: number;
  /** While writes fail, one is tried again this often (ms); meanwhile everything is dropped and counted. */
  readonly retryMs?: number;
  readonly onEvent?: (event: LogFileEvent) => void;
}

const WRITE_MAX = 256 * 1024;

/**
 * One log destination written asynchronously: writes are queued (bounded) and go out one fs.write at a time, in
 * order, so the caller never waits for the disk or a reader. Rotation at maxSize (before a write would pass it, at a
 * line boundary), reopen after an external rename, and rotation on request happen between writes, in order.
 *
 * Never throws, never waits, never grows without bound:
 * - above `highWaterBytes` queued, `needsDrain` tells writers that can wait (a worker's pipe) to wait for `onceDrained`;
 * - above `capBytes` queued, writes are dropped and counted;
 * - a write that fails (ENOSPC, EIO, a closed pipe) is reported once (`failed`); from then on everything is dropped
 *   and counted, one write is tried again every `retryMs`, and `recovered` says how much was lost once one works. A
 *   reopen tries at once. A file that cannot be opened is the same outage.
 * A full pipe or socket (EAGAIN) is not a failure: the write is tried again shortly, and the queue fills meanwhile.
 */
export class LogFile {
  readonly #source: FileSource;
  readonly #options: Required<Omit<LogFileOptions, 'onEvent'>> & Pick<LogFileOptions, 'onEvent'>;
  #fd: number | undefined;
  #size = 0;
  #queue: Buffer[] = [];
  #queued = 0;
  #writing = false;
  /** Reopen or rotation asked for, done before the next write. */
  #pendingOp: 'reopen' | 'rotate' | undefined;
  #opWaiters: (() => void)[] = [];
  /** Writes fail (or the file cannot be opened): everything is dropped until `retryAt` (Infinity: until a reopen). */
  #outage: { code: string; retryAt: number } | undefined;
  /** What was dropped since the last write that worked, and why (reported with the next one that works). */
  #lost = { lines: 0, bytes: 0, reason: '' };
  /** A rotation failed: no automatic rotation until an open works again (it would fail at every write). */
  #rotationBroken = false;
  #drainWaiters: (() => void)[] = [];
  #eagainDelay = 0;
  #closed = false;
  #stalledAtExit = false;
  #opening: Promise<void> | undefined;

  constructor(source: FileSource, options: LogFileOptions = {}) {
    this.#source = source;
    this.#options = {
      maxSize: source.kind === 'path' ? (options.maxSize ?? 0) : 0,
      highWaterBytes: options.highWaterBytes ?? 256 * 1024,
      capBytes: options.capBytes ?? 4 * 1024 * 1024,
      retryMs: options.retryMs ?? 1000,
      onEvent: options.onEvent,
    };
    if (source.kind === 'fd') this.#fd = source.fd;
    else this.#opening = this.#open('open');
  }

  /** The name used in messages: the path, or `fd N`. */
  get name(): string {
    return this.#source.name;
  }

  /** The descriptor now written to (undefined while the file cannot be opened). Workers in log-direct mode get it. */
  get fd(): number | undefined {
    return this.#fd;
  }

  /** Resolves once the first open is done (successful or not). */
  ready(): Promise<void> {
    return this.#opening ?? Promise.resolve();
  }

  /** True when writers that can wait should wait (onceDrained); never during an outage, when writes are dropped. */
  get needsDrain(): boolean {
    return this.#outage === undefined && this.#queued > this.#options.highWaterBytes;
  }

  /** True while writes fail or the file cannot be opened. */
  get failing(): boolean {
    return this.#outage !== undefined;
  }

  /** Bytes queued, not yet written. */
  get queuedBytes(): number {
    return this.#queued;
  }

  /** Calls `fn` once the queue is below the high-water mark again (on a later tick if it is already). */
  onceDrained(fn: () => void): void {
    if (!this.needsDrain) {
      setImmediate(fn);
      return;
    }
    this.#drainWaiters.push(fn);
  }

  /**
   * Queues `data` (whole lines). Returns false when it was dropped (and counted): the queue is at its cap, or the
   * file is failing.
   */
  write(data: Buffer | string): boolean {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    if (buf.length === 0) return true;
    if (this.#closed) {
      this.#writeNow(buf, 100);
      return true;
    }
    if (this.#outage && Date.now() < this.#outage.retryAt) {
      this.#drop(buf, this.#outage.code);
      return false;
    }
    if (this.#queued + buf.length > this.#options.capBytes && this.#queued > 0) {
      this.#drop(buf, 'the log could not keep up (queue full)');
      return false;
    }
    this.#queue.push(buf);
    this.#queued += buf.length;
    this.#kick();
    return true;
  }

  /** Reopens the file by its path (after an external rename: logrotate, SIGUSR2). Resolves when done. */
  reopen(): Promise<void> {
    return this.#requestOp('reopen');
  }

  /** Rotates now (touch-logrotate): rename to the backup name, prune, open a new file. Resolves when done. */
  rotate(): Promise<void> {
    return this.#requestOp('rotate');
  }

  /**
   * Writes what is queued (waiting up to `timeoutMs` for the disk or a slow reader), then closes the descriptor (not
   * one given as `fd`). Later writes go out synchronously, best effort. Idempotent.
   */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.#closed) return;
    const deadline = Date.now() + timeoutMs;
    await this.#opening;
    const hopeless = (): boolean => this.#fd === undefined || (this.#outage !== undefined && Date.now() < this.#outage.retryAt);
    while ((this.#queued > 0 || this.#writing) && Date.now() < deadline && !hopeless()) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    this.#closed = true;
    // What is left (a reader that did not catch up in time): one synchronous attempt, a second at most.
    const rest = this.#queue;
    this.#queue = [];
    this.#queued = 0;
    if (rest.length > 0) {
      const left = Buffer.concat(rest);
      const written = this.#writeNow(left, 1000);
      if (written < left.length) {
        this.#options.onEvent?.({ type: 'failed', code: 'EAGAIN', error: `${countLines(left.subarray(written))} record(s) could not be written before exit: the reader did not keep up` });
      }
    }
    if (this.#source.kind === 'path' && this.#fd !== undefined && !this.#writing) {
      const fd = this.#fd;
      this.#fd = undefined;
      close(fd, () => {});
    }
    for (const fn of this.#drainWaiters.splice(0)) fn();
    for (const resolve of this.#opWaiters.splice(0)) resolve();
  }

  #requestOp(op: 'reopen' | 'rotate'): Promise<void> {
    if (this.#source.kind !== 'path' || this.#closed) return Promise.resolve();
    // A rotation includes a reopen; a reopen asked while a rotation is pending adds nothing.
    if (this.#pendingOp !== 'rotate') this.#pendingOp = op;
    const done = new Promise<void>((resolve) => this.#opWaiters.push(resolve));
    this.#kick();
    return done;
  }

  #kick(): void {
    if (this.#writing || this.#closed) return;
    this.#writing = true;
    setImmediate(() => void this.#loop());
  }

  /** The one writer: performs pending opens and writes, one at a time, in order, until nothing is left. */
  async #loop(): Promise<void> {
    try {
      await this.#opening;
      for (;;) {
        if (this.#pendingOp) {
          const op = this.#pendingOp;
          this.#pendingOp = undefined;
          await this.#open(op);
          for (const resolve of this.#opWaiters.splice(0)) resolve();
          continue;
        }
        if (this.#queued === 0 || this.#closed) break;
        if (this.#fd === undefined) {
          this.#dropQueue(this.#outage?.code ?? 'not open');
          break;
        }
        let chunk = this.#take();
        const max = this.#options.maxSize;
        if (max > 0 && !this.#rotationBroken && this.#size + chunk.length > max) {
          // Rotate before a write would pass the limit, at a line boundary: what fits goes first.
          const room = max - this.#size;
          const [fits, rest] = room > 0 ? takeLines(chunk, room) : [chunk.subarray(0, 0), chunk];
          if (this.#size > 0 && (fits.length === 0 || fits.length > room)) {
            this.#unshift(chunk);
            await this.#open('rotate');
            continue;
          }
          if (rest.length > 0) this.#unshift(rest);
          chunk = fits;
        }
        const result = await this.#writeAll(chunk);
        if (result === 'again') {
          this.#unshift(chunk);
          this.#eagainDelay = Math.min(Math.max(this.#eagainDelay * 2, 2), 100);
          await new Promise((resolve) => setTimeout(resolve, this.#eagainDelay));
          continue;
        }
        this.#eagainDelay = 0;
        this.#notifyDrained();
      }
    } finally {
      this.#writing = false;
      this.#notifyDrained();
      if (!this.#closed && (this.#pendingOp || (this.#queued > 0 && this.#fd !== undefined))) this.#kick();
    }
  }

  /** Writes `chunk` whole (a short write continues); 'again' for a full pipe, 'done' otherwise (failures counted). */
  #writeAll(chunk: Buffer): Promise<'done' | 'again'> {
    return new Promise((resolve) => {
      const fd = this.#fd as number;
      let off = 0;
      const step = (): void => {
        write(fd, chunk, off, chunk.length - off, null, (err, n) => {
          if (err) {
            if (err.code === 'EAGAIN' && off === 0) return resolve('again');
            if (err.code === 'EAGAIN' || err.code === 'EINTR') return void setTimeout(step, 5);
            const code = err.code ?? 'EIO';
            this.#drop(chunk.subarray(off), code);
            this.#dropQueue(code);
            const first = !this.#outage;
            this.#outage = { code, retryAt: Date.now() + this.#options.retryMs };
            if (first) this.#options.onEvent?.({ type: 'failed', error: err.message, code });
            return resolve('done');
          }
          off += n;
          this.#size += n;
          if (off < chunk.length) return step();
          this.#worked();
          resolve('done');
        });
      };
      step();
    });
  }

  /** Opens (or reopens, or rotates to) the file by path; a failure keeps the descriptor there was, if any. */
  async #open(op: 'open' | 'reopen' | 'rotate'): Promise<void> {
    if (this.#source.kind !== 'path') return;
    let opened: Opened;
    try {
      opened = op === 'rotate' ? await this.#source.rotate() : await this.#source.open();
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const code = e.code ?? 'EIO';
      this.#options.onEvent?.({ type: 'open-failed', error: e.message, code });
      if (op === 'rotate') this.#rotationBroken = true;
      // Nothing to write to: everything is dropped until a reopen works.
      if (this.#fd === undefined) this.#outage = { code, retryAt: Number.POSITIVE_INFINITY };
      return;
    }
    const previous = this.#fd;
    this.#fd = opened.fd;
    this.#rotationBroken = false;
    this.#size = await new Promise<number>((resolve) => fstat(opened.fd, (err, st) => resolve(err ? 0 : st.size)));
    if (previous !== undefined) close(previous, () => {});
    // A new file is a new chance: the next write is tried at once.
    if (this.#outage) this.#outage.retryAt = 0;
    if (op === 'rotate') this.#options.onEvent?.({ type: 'rotated', renamedTo: opened.renamedTo, pruned: opened.pruned });
    else if (op === 'reopen') this.#options.onEvent?.({ type: 'reopened' });
  }

  #take(): Buffer {
    const parts: Buffer[] = [];
    let size = 0;
    while (this.#queue.length > 0 && size < WRITE_MAX) {
      const next = this.#queue.shift() as Buffer;
      parts.push(next);
      size += next.length;
    }
    this.#queued -= size;
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size);
  }

  #unshift(buf: Buffer): void {
    this.#queue.unshift(buf);
    this.#queued += buf.length;
  }

  #dropQueue(reason: string): void {
    for (const buf of this.#queue) this.#drop(buf, reason);
    this.#queue = [];
    this.#queued = 0;
  }

  #drop(buf: Buffer, reason: string): void {
    this.#lost.lines += Math.max(1, countLines(buf));
    this.#lost.bytes += buf.length;
    this.#lost.reason ||= reason;
  }

  /** A write went through: an outage ends, and what was lost meanwhile is reported. */
  #worked(): void {
    this.#outage = undefined;
    const lost = this.#lost;
    if (lost.lines === 0) return;
    this.#lost = { lines: 0, bytes: 0, reason: '' };
    this.#options.onEvent?.({ type: 'recovered', droppedLines: lost.lines, droppedBytes: lost.bytes, error: lost.reason });
  }

  #notifyDrained(): void {
    if (this.needsDrain || this.#drainWaiters.length === 0) return;
    for (const fn of this.#drainWaiters.splice(0)) fn();
  }

  /**
   * After close: a synchronous attempt (a supervisor's last words, or a record logged during exit), waiting at most
   * `waitMs` for a full pipe; once one has timed out, later ones are not tried (the exit must not hang on a reader).
   */
  #writeNow(buf: Buffer, waitMs: number): number {
    const fd = this.#source.kind === 'fd' ? this.#source.fd : this.#fd;
    if (fd === undefined || this.#stalledAtExit) return 0;
    const deadline = Date.now() + waitMs;
    let off = 0;
    while (off < buf.length) {
      try {
        off += writeSync(fd, buf, off);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if ((code === 'EAGAIN' || code === 'EINTR') && Date.now() < deadline) {
          Atomics.wait(sleeper, 0, 0, 2);
          continue;
        }
        if (code === 'EAGAIN') this.#stalledAtExit = true;
        return off;
      }
    }
    return off;
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
