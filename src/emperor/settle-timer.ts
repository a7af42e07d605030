/** A burst of file events: when it began and when the last one came (ms). */
export interface Burst {
  readonly firstAt: number;
  readonly lastAt: number;
}

/**
 * When a burst has settled (ms): once no event has come for `settleMs`, but no later than `maxWaitMs` after the
 * burst began, so that a storm of events cannot postpone the emperor forever. Pure.
 */
export function settleAt(burst: Burst, settleMs: number, maxWaitMs: number): number {
  return Math.min(burst.lastAt + settleMs, burst.firstAt + maxWaitMs);
}

/**
 * Calls `fire` when file events need a look: once a burst of events has settled (see settleAt), and at once for the
 * first event of a burst that names a vassal file (`urgent`: a file renamed in should not wait), then once more when
 * the burst has settled if events came after that look. `wakeAt` asks for one more call at a given time (something
 * found still settling). The only timer of the emperor's file watching.
 *
 * Why the early look is safe: the look itself decides what is complete. The scan holds a file written within the
 * settle time (its ctime, unless it was complete before its last rename, link or chmod: vassal-files.ts) and a path
 * missing from a directory that just changed, and asks to be woken when they have settled. So a complete file
 * renamed into the directory acts at once, and a file being written, or renamed away by an editor's save, waits as
 * before. Only the first vassal-file event of a burst looks at once: a storm of them is one look at its start and
 * one at its end (or every `maxWaitMs`), as before.
 */
export class SettleTimer {
  readonly #settleMs: number;
  readonly #maxWaitMs: number;
  readonly #fire: () => void;
  #burst: Burst | undefined;
  /** Whether the burst has had its early look, whether one is due, and how many events came since the last look. */
  #led = false;
  #leadDue = false;
  #hintsSinceLook = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #wakeAt = Infinity;
  #closed = false;

  constructor(settleMs: number, fire: () => void, maxWaitMs = settleMs * 10) {
    this.#settleMs = settleMs;
    this.#maxWaitMs = Math.max(maxWaitMs, settleMs);
    this.#fire = fire;
  }

  /** Something changed; `urgent` when the event names a vassal file (its look is not put off). */
  hint(now = Date.now(), urgent = false): void {
    if (this.#burst) {
      this.#burst = { firstAt: this.#burst.firstAt, lastAt: now };
    } else {
      this.#burst = { firstAt: now, lastAt: now };
      this.#led = false;
    }
    this.#hintsSinceLook++;
    if (urgent && !this.#led) this.#leadDue = true;
    this.#arm(now);
  }

  /** Fire again at `at` (ms) unless a burst fires earlier. */
  wakeAt(at: number, now = Date.now()): void {
    this.#wakeAt = Math.min(this.#wakeAt, at);
    this.#arm(now);
  }

  /** Whether a burst of events is still open: the last came less than the settle time ago. */
  get pending(): boolean {
    return this.#burst !== undefined;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  #arm(now: number): void {
    if (this.#closed) return;
    const burstAt = this.#burst ? (this.#leadDue ? now : settleAt(this.#burst, this.#settleMs, this.#maxWaitMs)) : Infinity;
    const at = Math.min(burstAt, this.#wakeAt);
    if (at === this.#timerAt && this.#timer) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = at;
    if (at === Infinity) return;
    this.#timer = setTimeout(() => this.#run(), Math.max(0, at - now));
  }

  #run(now = Date.now()): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    let look = false;
    if (this.#leadDue) {
      this.#leadDue = false;
      this.#led = true;
      look = true;
    }
    if (this.#burst && settleAt(this.#burst, this.#settleMs, this.#maxWaitMs) <= now) {
      // The burst is over: one more look only if something came after the last one.
      look ||= this.#hintsSinceLook > 0;
      this.#burst = undefined;
    }
    if (this.#wakeAt <= now) {
      this.#wakeAt = Infinity;
      look = true;
    }
    if (look) {
      // One look sees every event so far.
      this.#hintsSinceLook = 0;
      this.#fire();
    }
    this.#arm(now);
  }
}
