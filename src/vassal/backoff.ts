/**
 * Restart policy: a pure function of a slot's failure history and the clock (s6 and immortal keep it the same way).
 * No timers and no logging here; the vassal acts on the answer.
 */
import type { BackoffPolicy } from '../config/vassal-config.js';

export type { BackoffPolicy };

/** How a worker ended, as far as the policy cares. */
export interface ExitFacts {
  /** Whether it ever became ready. */
  readonly wasReady: boolean;
  /** Time from ready to exit, in ms (0 if never ready). */
  readonly readyForMs: number;
}

export interface SlotHealth {
  /** Failures in a row: exits before becoming ready, or soon after. */
  readonly failures: number;
}

export const HEALTHY: SlotHealth = Object.freeze({ failures: 0 });

/**
 * The slot's health after an unexpected exit, and how long to wait before the next start. The first failure is
 * restarted at once (a crash costs only what was in flight); each further one waits initialMs, 2*initialMs, ...
 * up to maxMs, until a worker has been healthy for healthyAfterMs.
 */
export function afterUnexpectedExit(health: SlotHealth, exit: ExitFacts, policy: BackoffPolicy): { health: SlotHealth; delayMs: number } {
  const healthy = exit.wasReady && exit.readyForMs >= policy.healthyAfterMs;
  const failures = healthy ? 1 : health.failures + 1;
  return { health: { failures }, delayMs: delayFor(failures, policy) };
}

/** Delay before restart number `failures` in a row (1-based). */
export function delayFor(failures: number, policy: BackoffPolicy): number {
  if (failures <= 1) return 0;
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(failures - 2, 30));
}
