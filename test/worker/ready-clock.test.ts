import { describe, expect, it } from 'vitest';
import { readyTimeLeft, STRETCH_AT_MOST } from '../../src/worker/ready-clock.js';

describe('readyTimeLeft', () => {
  it('counts the wall time since the spawn when the worker waited for no CPU, or the wait is unknown', () => {
    expect(readyTimeLeft(60_000, 0, 0)).toBe(60_000);
    expect(readyTimeLeft(60_000, 45_000, 0)).toBe(15_000);
    expect(readyTimeLeft(60_000, 45_000, undefined)).toBe(15_000);
    expect(readyTimeLeft(60_000, 60_000, 0)).toBe(0);
    expect(readyTimeLeft(60_000, 61_000, undefined)).toBe(0);
  });

  it('does not count time spent waiting for a CPU', () => {
    // A worker of a storm: 60 s on the wall, 50 of them in the run queue.
    expect(readyTimeLeft(60_000, 60_000, 50_000)).toBe(50_000);
    expect(readyTimeLeft(60_000, 90_000, 40_000)).toBe(10_000);
    expect(readyTimeLeft(60_000, 90_000, 20_000)).toBe(0);
  });

  it('never counts more wait than wall time, nor a negative wait', () => {
    expect(readyTimeLeft(1000, 500, 900)).toBe(1000);
    expect(readyTimeLeft(1000, 500, -300)).toBe(500);
  });

  it(`stretches the wall clock to ${STRETCH_AT_MOST} times the timeout at most, however long the worker waited`, () => {
    expect(readyTimeLeft(1000, STRETCH_AT_MOST * 1000 - 200, STRETCH_AT_MOST * 1000 - 300)).toBe(200);
    expect(readyTimeLeft(1000, STRETCH_AT_MOST * 1000, STRETCH_AT_MOST * 1000)).toBe(0);
    expect(readyTimeLeft(1000, STRETCH_AT_MOST * 1000 + 5, STRETCH_AT_MOST * 1000)).toBe(0);
  });
});
