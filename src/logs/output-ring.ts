/** One line a vassal's workers printed, as kept for `--logs` and followers. */
export interface OutputEntry {
  /** When the emperor read it (ms since the epoch). */
  readonly time: number;
  /** Undefined for a line read back from a log-direct file (workers write it themselves). */
  readonly worker?: number;
  readonly pid?: number;
  readonly generation?: number;
  readonly stream: 'stdout' | 'stderr' | 'file';
  readonly line: string;
}

/** Default bounds of a vassal's ring: at 1,000 vassals, at most 32 MiB in all. */
export const RING_LINES = 200;
export const RING_BYTES = 32 * 1024;

/**
 * The last lines of a vassal's output, bounded in lines and in bytes (a line counts its UTF-16 length), oldest
 * dropped first. What `supervisor --logs NAME` shows before it follows.
 */
export class OutputRing {
  readonly #entries: OutputEntry[] = [];
  #head = 0;
  #bytes = 0;

  constructor(
    private readonly maxLines = RING_LINES,
    private readonly maxBytes = RING_BYTES,
  ) {}

  add(entry: OutputEntry): void {
    this.#entries.push(entry);
    this.#bytes += entry.line.length;
    while (this.#entries.length - this.#head > this.maxLines || (this.#bytes > this.maxBytes && this.#entries.length - this.#head > 1)) {
      this.#bytes -= (this.#entries[this.#head] as OutputEntry).line.length;
      this.#head++;
    }
    // Compact now and then rather than shift() per line.
    if (this.#head > this.maxLines) {
      this.#entries.splice(0, this.#head);
      this.#head = 0;
    }
  }

  /** The last `limit` lines (all kept by default), oldest first. */
  lines(limit = Number.POSITIVE_INFINITY): OutputEntry[] {
    const start = Math.max(this.#head, this.#entries.length - limit);
    return this.#entries.slice(start);
  }
}
