import { fstatSync, readSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { VassalLogSettings } from '../config/log-settings.js';
import type { Credentials } from '../runtime/accounts.js';
import { backpressureOf, type Backpressure } from './backpressure.js';
import type { LogFileJob } from './file-ops.js';
import { FileOpener } from './file-opener.js';
import { formatLine, isVerbatim, lineStyle, type LineOrigin, type LineStyle } from './line-format.js';
import { countLines, forEachLine, lastLines, LineSplitter, takeLines } from './line-splitter.js';
import { LogFile, type LogFileEvent } from './log-file.js';
import { OutputRing, RING_LINES, type OutputEntry } from './output-ring.js';
import { TouchLogWatch } from './touch-log.js';

/** What `supervisor --logs NAME [--follow]` needs of a vassal: its last lines, and the lines as they come. */
export interface VassalOutputView {
  /** The last lines (at most RING_LINES, 32 KiB), oldest first; for a log-direct vassal, read back from its file. */
  recentLines(limit?: number): OutputEntry[];
  /** Calls `listener` with every line from now on; returns the function that stops it. */
  subscribe(listener: (entry: OutputEntry) => void): () => void;
  /** The logto file, if any. */
  readonly file: string | undefined;
  /** log-direct: the workers write the file themselves (lines come from reading it back). */
  readonly direct: boolean;
}

/** Who a worker is, for its lines. */
export interface WorkerIdentity {
  readonly worker: number;
  readonly generation: number;
  readonly pid: number | undefined;
  /** The worker's child logger (vassal, worker, pid, generation), for lines that go to the emperor's log. */
  readonly log: Logger;
  /** Receives the last lines of each batch, for the worker's failure reports. */
  readonly tail: (lines: string[]) => void;
}

/** What a Worker is given: the file itself (log-direct), or where to pipe its stdout and stderr. */
export interface WorkerOutput {
  /** log-direct: the descriptor to give the worker as stdout and stderr; undefined: pipes, read by attach(). */
  readonly directFd: number | undefined;
  attach(stream: 'stdout' | 'stderr', source: Readable, who: WorkerIdentity): void;
}

export interface VassalOutputOptions {
  readonly vassal: string;
  /** The vassal's child logger: where lines go without logto, and where the log's own events are reported. */
  readonly log: Logger;
  /** Tyrant mode: the file is always opened with the tenant's rights, never a device. */
  readonly tyrant: boolean;
}

// How much input one delivery step takes, and at most how much output it makes: the emperor's loop turns between.
const SLICE = 64 * 1024;
// A drop-mode vassal's log.dropped notice comes at most this often.
const DROP_REPORT_MS = 2000;
// How often a log-direct file is read back while someone follows it.
const FOLLOW_POLL_MS = 250;

/**
 * A vassal's output: where its workers' lines go (its logto file, or the emperor's log), in what form, with
 * backpressure (the worker waits) or dropping (counted) when the destination cannot keep up; a ring of its last lines
 * and followers; reopen, rotation and touch-logreopen/touch-logrotate. One per vassal, shared by its generations.
 */
export class VassalOutput implements VassalOutputView {
  readonly #options: VassalOutputOptions;
  #settings: VassalLogSettings | undefined;
  #style: LineStyle = { format: 'plain', date: undefined };
  #file: LogFile | undefined;
  #fileKey = '';
  readonly #ring = new OutputRing();
  readonly #listeners = new Set<(entry: OutputEntry) => void>();
  readonly #touchReopen = new TouchLogWatch(() => void this.reopen());
  readonly #touchRotate = new TouchLogWatch(() => void this.rotate());
  #dropped = { lines: 0, timer: undefined as NodeJS.Timeout | undefined };
  #follow: { timer: NodeJS.Timeout; offset: number } | undefined;
  readonly #closing: Promise<void>[] = [];

  constructor(options: VassalOutputOptions) {
    this.#options = options;
  }

  get file(): string | undefined {
    return this.#settings?.file?.path;
  }

  get direct(): boolean {
    return this.#settings?.direct === true && this.#file !== undefined;
  }

  /**
   * Applies a vassal's log settings: opens its logto file (with the tenant's or the workers' rights where that is the
   * rule) when it is new or another file, or reopens it on a reload with log-reopen. `uwsgiApp`: the vassal runs
   * uWSGI as an app server, which dates its own lines (see lineStyle). Never rejects: a file that cannot be opened is
   * reported, its lines dropped until a reopen works.
   */
  async configure(settings: VassalLogSettings, credentials: Credentials | undefined, options: { reload: boolean; uwsgiApp?: boolean }): Promise<void> {
    this.#settings = settings;
    this.#style = lineStyle(settings, options.uwsgiApp ?? false);
    const file = settings.file;
    const openAs = this.#options.tyrant || settings.openAsWorkers ? credentials : undefined;
    const job: LogFileJob | undefined = file && {
      path: file.path,
      mode: file.mode,
      owner: settings.chown && credentials ? { uid: credentials.uid, gid: credentials.gid } : undefined,
      allowDevices: !this.#options.tyrant,
      backupName: file.backupName,
      backups: file.backups,
    };
    const key = job ? JSON.stringify({ job, as: openAs && [openAs.uid, openAs.gid], maxSize: file?.maxSize }) : '';
    if (key !== this.#fileKey) {
      const previous = this.#file;
      this.#fileKey = key;
      this.#file = undefined;
      if (job && file) {
        if (this.#options.tyrant && !openAs) {
          // Never happens (tyrant mode always has the owner's credentials); if it did, root must not open the file.
          this.#report({ type: 'open-failed', code: 'EPERM', error: `${file.path}: no tenant credentials to open it with` }, file.path);
        } else {
          const opener = new FileOpener(job, openAs);
          this.#file = new LogFile(
            { kind: 'path', name: file.path, open: () => opener.open(), rotate: () => opener.rotate() },
            { maxSize: file.maxSize, onEvent: (event) => this.#report(event, file.path) },
          );
          await this.#file.ready();
        }
      }
      if (previous) this.#retire(previous);
    } else if (options.reload && file?.reopenOnReload) {
      await this.reopen();
    }
    this.#touchReopen.set(file?.touchReopen ?? []);
    this.#touchRotate.set(file?.touchRotate ?? []);
  }

  /** What a new worker gets: the file (log-direct, when it is open) or pipes to attach. */
  forWorker(): WorkerOutput {
    const fd = this.#settings?.direct ? this.#file?.fd : undefined;
    return { directFd: fd, attach: (stream, source, who) => this.#attach(stream, source, who) };
  }

  /** Reopens the logto file by its path (SIGUSR2, touch-logreopen, log-reopen). */
  async reopen(): Promise<void> {
    if (!this.#file) return;
    await this.#file.reopen();
    if (this.#settings?.direct) {
      this.#options.log.info(
        { event: 'log.direct-reopened', file: this.#file.name },
        `${this.#file.name} reopened: workers started from now on write to it; running log-direct workers keep the file they were given until they restart`,
      );
    }
  }

  /** Rotates the logto file now (touch-logrotate). */
  async rotate(): Promise<void> {
    if (this.#settings?.direct) return;
    await this.#file?.rotate();
  }

  recentLines(limit = RING_LINES): OutputEntry[] {
    if (this.direct) return this.#readBack(limit);
    return this.#ring.lines(limit);
  }

  subscribe(listener: (entry: OutputEntry) => void): () => void {
    this.#listeners.add(listener);
    if (this.direct && !this.#follow) this.#startFollowing();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0 && this.#follow) {
        clearInterval(this.#follow.timer);
        this.#follow = undefined;
      }
    };
  }

  /** Writes out what is queued and closes the file; stops watching. Call once every worker has exited. */
  async close(): Promise<void> {
    this.#touchReopen.close();
    this.#touchRotate.close();
    if (this.#follow) clearInterval(this.#follow.timer);
    this.#follow = undefined;
    this.#reportDropped();
    const file = this.#file;
    this.#file = undefined;
    this.#fileKey = '';
    await Promise.all([file?.close(), ...this.#closing]);
  }

  /** An old file (logto changed): closed once what was queued for it is written. */
  #retire(file: LogFile): void {
    const closing = file.close();
    this.#closing.push(closing);
    void closing.then(() => this.#closing.splice(this.#closing.indexOf(closing), 1));
  }

  /** Where lines go now, and whether it can take more. */
  #destination(log: Logger): Backpressure {
    return this.#file ?? backpressureOf(log);
  }

  #attach(stream: 'stdout' | 'stderr', source: Readable, who: WorkerIdentity): void {
    const splitter = new LineSplitter();
    const origin: LineOrigin = { vassal: this.#options.vassal, worker: who.worker, pid: who.pid, generation: who.generation, stream };
    let backlog: Buffer | undefined;
    let waiting = false;
    const deliver = (): void => {
      waiting = false;
      while (backlog && backlog.length > 0) {
        const destination = this.#destination(who.log);
        if (destination.needsDrain) {
          if (this.#settings?.overflow === 'drop') {
            this.#drop(backlog);
            backlog = undefined;
            break;
          }
          // Backpressure: stop reading this worker's pipe until the destination has room; the worker waits on its
          // write. What is held meanwhile is at most one chunk the pipe had already given.
          waiting = true;
          source.pause();
          destination.onceDrained(deliver);
          return;
        }
        backlog = this.#emit(backlog, origin, who);
      }
      backlog = undefined;
      source.resume();
    };
    const take = (lines: Buffer): void => {
      if (lines.length === 0) return;
      backlog = backlog && backlog.length > 0 ? Buffer.concat([backlog, lines]) : lines;
      if (!waiting) deliver();
    };
    source.on('data', (chunk: Buffer | string) => take(splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)));
    source.on('end', () => take(splitter.end()));
  }

  /**
   * Sends the first lines of `lines` (about SLICE bytes of input or output) to the destination, the ring, the
   * followers and the worker's tail; returns the lines left.
   */
  #emit(lines: Buffer, origin: LineOrigin, who: WorkerIdentity): Buffer | undefined {
    const now = Date.now();
    const file = this.#file;
    let done: Buffer;
    let rest: Buffer | undefined;
    if (file && isVerbatim(this.#style)) {
      [done, rest] = takeLines(lines, SLICE);
      file.write(done);
    } else {
      // Line by line: formatted into the file, or as records into the emperor's log (which may fill up mid-way).
      const toLog = file === undefined;
      const pressure = toLog ? backpressureOf(who.log) : undefined;
      const out: string[] = [];
      let outBytes = 0;
      let start = 0;
      while (start < lines.length && start < SLICE && outBytes < SLICE) {
        const nl = lines.indexOf(0x0a, start);
        const end = nl < 0 ? lines.length : nl;
        const stop = end > start && lines[end - 1] === 0x0d ? end - 1 : end;
        const line = lines.toString('utf8', start, stop);
        start = end + 1;
        if (toLog) {
          who.log.info({ event: 'worker.output', stream: origin.stream }, line);
          if (pressure?.needsDrain) break;
        } else {
          const text = formatLine(line, origin, this.#style, now);
          out.push(text);
          outBytes += text.length;
        }
      }
      if (file) file.write(out.join(''));
      done = lines.subarray(0, Math.min(start, lines.length));
      rest = lines.subarray(Math.min(start, lines.length));
    }
    this.#remember(done, origin, who, now);
    return rest && rest.length > 0 ? rest : undefined;
  }

  #remember(lines: Buffer, origin: LineOrigin, who: WorkerIdentity, now: number): void {
    const batch = { time: now, worker: origin.worker, pid: origin.pid, generation: origin.generation, stream: origin.stream };
    this.#ring.add(batch, lines);
    who.tail(lastLines(lines, 20));
    if (this.#listeners.size === 0) return;
    forEachLine(lines, (line) => {
      const entry = { ...batch, line };
      for (const listener of this.#listeners) listener(entry);
    });
  }

  #drop(lines: Buffer): void {
    this.#dropped.lines += countLines(lines);
    this.#dropped.timer ??= setTimeout(() => this.#reportDropped(), DROP_REPORT_MS).unref();
  }

  #reportDropped(): void {
    clearTimeout(this.#dropped.timer);
    const lines = this.#dropped.lines;
    this.#dropped = { lines: 0, timer: undefined };
    if (lines === 0) return;
    this.#options.log.warn(
      { event: 'log.dropped', lines, file: this.file },
      `${lines} line(s) of ${this.#options.vassal}'s output dropped: the log could not keep up (log-overflow = drop)`,
    );
  }

  #report(event: LogFileEvent, file: string): void {
    const log = this.#options.log;
    switch (event.type) {
      case 'failed':
        log.error({ event: 'log.write-failed', file, code: event.code, err: event.error }, `cannot write ${file}: ${event.error}; the output is dropped (and counted) until it can be written again (tried every second, and at reopen); the workers carry on`);
        return;
      case 'open-failed':
        log.error({ event: 'log.open-failed', file, code: event.code, err: event.error }, `${event.error}; the output is dropped (and counted) until a reopen works (SIGUSR2, touch-logreopen, a reload); the workers carry on`);
        return;
      case 'recovered':
        log.warn(
          { event: 'log.recovered', file, droppedLines: event.droppedLines, droppedBytes: event.droppedBytes, error: event.error },
          `${file} is written again: ${event.droppedLines} line(s) (${event.droppedBytes} bytes) were dropped meanwhile (${event.error})`,
        );
        return;
      case 'rotated':
        log.info({ event: 'log.rotated', file, renamedTo: event.renamedTo, pruned: event.pruned }, `${file} rotated${event.renamedTo ? ` to ${event.renamedTo}` : ''}${event.pruned.length ? `; removed ${event.pruned.length} old file(s)` : ''}`);
        return;
      case 'reopened':
        log.info({ event: 'log.reopened', file }, `${file} reopened`);
        return;
    }
  }

  /** The last lines of a log-direct file, read back through the emperor's own descriptor (never by path). */
  #readBack(limit: number): OutputEntry[] {
    const fd = this.#file?.fd;
    if (fd === undefined) return [];
    try {
      const size = fstatSync(fd).size;
      const length = Math.min(size, 32 * 1024);
      const buf = Buffer.alloc(length);
      const n = readSync(fd, buf, 0, length, size - length);
      let text = buf.toString('utf8', 0, n);
      // The first line read is likely a part of one.
      if (size > length) text = text.slice(text.indexOf('\n') + 1);
      const now = Date.now();
      return text.split('\n').filter((line, i, all) => i < all.length - 1 || line !== '').slice(-limit).map((line) => ({ time: now, stream: 'file' as const, line }));
    } catch {
      return [];
    }
  }

  /** Followers of a log-direct vassal: what workers append to the file is read back every FOLLOW_POLL_MS. */
  #startFollowing(): void {
    const fd = this.#file?.fd;
    if (fd === undefined) return;
    let offset = 0;
    try {
      offset = fstatSync(fd).size;
    } catch {
      return;
    }
    let partial = '';
    const timer = setInterval(() => {
      const current = this.#file?.fd;
      if (current === undefined || !this.#follow) return;
      try {
        const size = fstatSync(current).size;
        if (size < this.#follow.offset) this.#follow.offset = 0; // truncated (copytruncate)
        const length = Math.min(size - this.#follow.offset, SLICE);
        if (length <= 0) return;
        const buf = Buffer.alloc(length);
        const n = readSync(current, buf, 0, length, this.#follow.offset);
        this.#follow.offset += n;
        const parts = (partial + buf.toString('utf8', 0, n)).split('\n');
        partial = (parts.pop() ?? '').slice(0, 16 * 1024);
        const now = Date.now();
        for (const line of parts) for (const listener of this.#listeners) listener({ time: now, stream: 'file', line });
      } catch {
        // The file went away meanwhile; the next reopen gives another.
      }
    }, FOLLOW_POLL_MS);
    timer.unref();
    this.#follow = { timer, offset };
  }
}
