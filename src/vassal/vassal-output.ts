/** One line a worker of the vassal printed. */
export interface OutputLine {
  /** When the emperor read it (ms since the epoch). */
  readonly at: number;
  /** The worker's id (slot, 1..processes). */
  readonly worker: number;
  readonly pid: number | undefined;
  readonly generation: number;
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
}

/**
 * The recent output of one vassal's workers, for `supervisor --logs NAME [--follow]`: a bounded ring of the last
 * lines (memory stays bounded however much a worker prints: at most maxLines lines, each already cut to the
 * worker's line limit), and subscribers that get every new line as it comes. A subscriber must not throw or block:
 * it is called synchronously from the worker's output handler.
 */
export class VassalOutput {
  readonly #lines: OutputLine[] = [];
  readonly #subscribers = new Set<(line: OutputLine) => void>();
  #start = 0;

  constructor(readonly maxLines = 200) {}

  push(line: OutputLine): void {
    if (this.#lines.length < this.maxLines) {
      this.#lines.push(line);
    } else {
      this.#lines[this.#start] = line;
      this.#start = (this.#start + 1) % this.maxLines;
    }
    for (const subscriber of this.#subscribers) subscriber(line);
  }

  /** The last `count` lines kept (all of them by default), oldest first. */
  recentLines(count = this.maxLines): OutputLine[] {
    const ordered = [...this.#lines.slice(this.#start), ...this.#lines.slice(0, this.#start)];
    return count >= ordered.length ? ordered : ordered.slice(ordered.length - Math.max(0, count));
  }

  /** Calls `onLine` with every line pushed from now on; returns the function that stops it. */
  subscribe(onLine: (line: OutputLine) => void): () => void {
    const subscriber = (line: OutputLine): void => onLine(line);
    this.#subscribers.add(subscriber);
    return () => this.#subscribers.delete(subscriber);
  }

  /** How many subscribers there are (for tests, and to see a leak). */
  get subscribers(): number {
    return this.#subscribers.size;
  }
}
