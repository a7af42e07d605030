/** A burst of file events: when it began and when the last one came (ms). */
export interface Burst {
  readonly firstAt: number;
  readonly lastAt: number;
}

/**
 * When a burst is acted on (ms): once no event has come for `settleMs`, so one save (rename, write, delete backup)
 * is one look at the final state; but no later than `maxWaitMs` after the burst began, so a storm of events cannot
 * postpone the emperor forever. Pure.
 */
export function settleAt(burst: Burst, settleMs: number, maxWaitMs: number): number {
  return Math.min(burst.lastAt + settleMs, burst.firstAt + maxWaitMs);
}

/**
 * Calls `fire` once per burst of `hint()`s, when the burst has settled (see settleAt); `wakeAt` asks for one more
 * call at a given time (something found still settling). The only timer of the emperor's file watching.
 */
export class SettleTimer {
  readonly #settleMs: number;
  readonly #maxWaitMs: number;
  readonly #fire: () => void;
  #burst: Burst | undefined;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #wakeAt = Infinity;
  #closed = false;

  constructor(settleMs: number, fire: () => void, maxWaitMs = settleMs * 10) {
    this.#settleMs = settleMs;
    this.#maxWaitMs = Math.max(maxWaitMs, settleMs);
    this.#fire = fire;
  }

  /** Something changed. */
  hint(now = Date.now()): void {
    this.#burst = { firstAt: this.#burst?.firstAt ?? now, lastAt: now };
    this.#arm(now);
  }

  /** Fire again at `at` (ms) unless a burst fires earlier. */
  wakeAt(at: number, now = Date.now()): void {
    this.#wakeAt = Math.min(this.#wakeAt, at);
    this.#arm(now);
  }

  /** Whether events have come that have not been acted on yet. */
  get pending(): boolean {
    return this.#burst !== undefined;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  #arm(now: number): void {
    if (this.#closed) return;
    const at = Math.min(this.#burst ? settleAt(this.#burst, this.#settleMs, this.#maxWaitMs) : Infinity, this.#wakeAt);
    if (at === this.#timerAt && this.#timer) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.#burst = undefined;
      this.#wakeAt = Infinity;
      this.#fire();
    }, Math.max(0, at - now));
  }
}
