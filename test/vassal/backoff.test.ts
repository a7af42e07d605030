import { describe, expect, it } from 'vitest';
import { afterUnexpectedExit, delayFor, HEALTHY } from '../../src/vassal/backoff.js';

const policy = { initialMs: 500, maxMs: 4000, healthyAfterMs: 10_000 };

describe('crash-loop backoff', () => {
  it('restarts the first failure at once, then doubles from the initial delay up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => delayFor(n, policy))).toEqual([0, 500, 1000, 2000, 4000, 4000, 4000]);
  });

  it('counts exits before ready and soon after ready as failures in a row', () => {
    let health = HEALTHY;
    const delays: number[] = [];
    for (const exit of [
      { wasReady: false, readyForMs: 0 },
      { wasReady: true, readyForMs: 2000 },
      { wasReady: false, readyForMs: 0 },
    ]) {
      const next = afterUnexpectedExit(health, exit, policy);
      health = next.health;
      delays.push(next.delayMs);
    }
    expect(delays).toEqual([0, 500, 1000]);
    expect(health.failures).toBe(3);
  });

  it('starts over once a worker has been healthy long enough', () => {
    const next = afterUnexpectedExit({ failures: 6 }, { wasReady: true, readyForMs: 10_000 }, policy);
    expect(next).toEqual({ health: { failures: 1 }, delayMs: 0 });
  });

  it('does not overflow on very long crash loops', () => {
    expect(delayFor(10_000, policy)).toBe(4000);
  });
});
