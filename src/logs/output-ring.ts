import { forEachLine } from './line-splitter.js';

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

/** Who printed a batch of lines, and when it was read. */
export type BatchOrigin = Omit<OutputEntry, 'line'>;

/** Default bounds of a vassal's ring: at 1,000 vassals, at most 32 MiB in all. */
export const RING_LINES = 200;
export const RING_BYTES = 32 * 1024;

/**
 * The last lines of a vassal's output, bounded in bytes (and lines when read), oldest dropped first: what
 * `supervisor --logs NAME` shows before it follows. Kept as the bytes of the batches the workers printed, made into
 * lines only when asked for: a flood costs a copy of its last 32 KiB per batch, not a string per line.
 */
export class OutputRing {
  readonly #batches: { origin: BatchOrigin; bytes: Buffer }[] = [];
  #bytes = 0;

  constructor(
    private readonly maxLines = RING_LINES,
    private readonly maxBytes = RING_BYTES,
  ) {}

  /** Keeps the last lines of `lines` (complete lines, each ending in "\n"), at most maxBytes of them. */
  add(origin: BatchOrigin, lines: Buffer): void {
    let kept = lines;
    if (kept.length > this.maxBytes) {
      // From the first line that starts within the last maxBytes (a line longer than that is kept whole).
      const from = kept.indexOf(0x0a, kept.length - this.maxBytes - 1) + 1;
      kept = kept.subarray(from > 0 && from < kept.length ? from : kept.lastIndexOf(0x0a, kept.length - 2) + 1);
    }
    if (kept.length === 0) return;
    // A copy: the batch the pipe gave may be large, and must not be held by the ring.
    this.#batches.push({ origin, bytes: Buffer.from(kept) });
    this.#bytes += kept.length;
    // Every batch holds a line at least: maxLines batches always hold the last maxLines lines.
    while ((this.#bytes > this.maxBytes || this.#batches.length > this.maxLines) && this.#batches.length > 1) {
      this.#bytes -= (this.#batches.shift() as { bytes: Buffer }).bytes.length;
    }
  }

  /** The last `limit` lines (at most maxLines), oldest first. */
  lines(limit = this.maxLines): OutputEntry[] {
    const out: OutputEntry[] = [];
    for (const { origin, bytes } of this.#batches) forEachLine(bytes, (line) => out.push({ ...origin, line }));
    return out.slice(-Math.min(limit, this.maxLines));
  }
}
