/**
 * Which workers start at a lower CPU priority (`nice-until-ready`): those spawned while a start storm is under way,
 * that is while at least `stormSize` other workers of the same emperor are starting (spawned, not yet ready, not
 * gone). A lone start (a hot-add, one vassal's rolling reload) keeps the emperor's priority and starts as fast as it
 * can; in a storm (the emperor's own start, a SIGHUP, a fleet dropped at once) the starting workers yield the CPU
 * to the emperor, which is spawning them, and to the workers already serving. When no more than `stormSize` are
 * starting again the storm is over, and the few still starting get their priority back as well: as many workers as
 * there are CPUs may start at full priority, so a straggler is never left lowered once it alone would not have
 * been. Pure counting: start-priority.ts applies the priority.
 */
export interface StartNicePolicy {
  /** Nice value (integer 1..19) a storm's workers run at until ready; 0 switches the rule off. */
  readonly nice: number;
  /** How many workers already starting make a storm (integer >= 0); the emperor uses its number of CPUs. */
  readonly stormSize: number;
}

/** Counts the workers that are starting. Every begin() is paired with one end(). */
export class StartStorm {
  readonly policy: StartNicePolicy;
  #starting = 0;

  constructor(policy: StartNicePolicy) {
    this.policy = policy;
  }

  /** Workers begun and not yet ended. */
  get starting(): number {
    return this.#starting;
  }

  /** A worker is being spawned: the nice value it starts at, or undefined when it keeps the emperor's priority. */
  begin(): number | undefined {
    const storm = this.#starting >= this.policy.stormSize;
    this.#starting++;
    return storm && this.policy.nice > 0 ? this.policy.nice : undefined;
  }

  /**
   * A worker begun earlier is ready, or stopping, or gone. True when the storm is over: no more than `stormSize` are
   * starting, so none of them would be lowered if it were begun now (each would see fewer than `stormSize` others).
   */
  end(): boolean {
    if (this.#starting > 0) this.#starting--;
    return this.#starting <= this.policy.stormSize;
  }
}
