/**
 * `ready-timeout`'s clock. A worker's time to ready counts the wall time since it got its go-ahead (the exec chain runs
 * its setup text and the program then; in a storm the emperor gives it once the batch of spawns is done, outside one at
 * once) less the time it spent waiting for a CPU (cpu-wait.ts). On a machine starting more workers than it has CPUs,
 * each waits most of its start in the run queue, and killing it for that restarts the same work and makes the storm
 * longer (1,000 Node workers on 2 cores: 575 ready-timeout kills before this rule). A hung worker, sleeping on a lock
 * or spinning, waits for no CPU, so its time counts in full. The wall time is bounded all the same: STRETCH_AT_MOST
 * times the timeout.
 */

/** On the wall clock, a ready-timeout stretches by CPU waits to at most this many times itself. */
export const STRETCH_AT_MOST = 10;

/**
 * A deadline pushed back by CPU waits is checked again no sooner than this: a worker that only waits from there on
 * would otherwise be checked over and over a millisecond apart. The timeout may so be late by this much.
 */
export const RECHECK_AT_LEAST_MS = 100;

/**
 * Milliseconds left before the worker counts as not ready in time; 0 when its time is up. `timeoutMs`: the
 * ready-timeout; `elapsedMs`: wall time since its go-ahead; `waitedMs`: its CPU wait since the spawn (undefined when
 * unknown: the wall time counts in full).
 */
export function readyTimeLeft(timeoutMs: number, elapsedMs: number, waitedMs: number | undefined): number {
  const counted = elapsedMs - Math.min(Math.max(waitedMs ?? 0, 0), elapsedMs);
  const left = Math.min(timeoutMs - counted, timeoutMs * STRETCH_AT_MOST - elapsedMs);
  return Math.max(0, left);
}
