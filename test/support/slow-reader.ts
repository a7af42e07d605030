import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { addLogLines, type LogRecord } from './emperor.js';

/**
 * A deliberately slow reader of an emperor's stdout: a FIFO whose write end the emperor gets, read at most
 * `bytesPerSecond` (or as fast as it comes with `fast()`). Parses JSON lines into records.
 */
export class SlowReader {
  readonly records: LogRecord[] = [];
  readonly writeFd: number;
  readonly #fd: number;
  #partial = '';
  #timer: NodeJS.Timeout | undefined;
  #eof = false;
  bytes = 0;

  constructor(fifo: string) {
    execFileSync('mkfifo', [fifo]);
    this.#fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    this.writeFd = openSync(fifo, constants.O_WRONLY);
  }

  /** Reads up to `bytesPerSecond`, in 20 steps a second. */
  slow(bytesPerSecond: number): void {
    clearInterval(this.#timer);
    this.#timer = setInterval(() => this.#read(bytesPerSecond / 20), 50);
  }

  /** Reads everything as it comes. */
  fast(): void {
    clearInterval(this.#timer);
    this.#timer = setInterval(() => this.#read(Number.POSITIVE_INFINITY), 5);
  }

  /** The writer's end is the emperor's only: EOF comes when it exits. */
  closeWriteEnd(): void {
    closeSync(this.writeFd);
  }

  get ended(): boolean {
    return this.#eof;
  }

  close(): void {
    clearInterval(this.#timer);
    try {
      closeSync(this.#fd);
    } catch {
      // Closed already.
    }
  }

  #read(budget: number): void {
    const buf = Buffer.alloc(64 * 1024);
    while (budget > 0 && !this.#eof) {
      let n: number;
      try {
        n = readSync(this.#fd, buf, 0, Math.min(buf.length, budget), null);
      } catch {
        return; // EAGAIN: nothing there yet.
      }
      if (n === 0) {
        this.#eof = true;
        return;
      }
      budget -= n;
      this.bytes += n;
      this.#partial = addLogLines(this.records, this.#partial + buf.toString('utf8', 0, n));
    }
  }
}
