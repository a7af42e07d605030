import { afterEach, describe, expect, it, vi } from 'vitest';
import { SettleTimer, settleAt } from '../../src/emperor/settle-timer.js';

describe('settleAt', () => {
  it('is the settle time after the last event, capped at maxWait after the first', () => {
    expect(settleAt({ firstAt: 0, lastAt: 10 }, 50, 500)).toBe(60);
    expect(settleAt({ firstAt: 0, lastAt: 480 }, 50, 500)).toBe(500);
  });
});

describe('SettleTimer', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires once per burst, after the quiet time; a steady stream fires at the cap; wakeAt asks for one more', () => {
    vi.useFakeTimers({ now: 0 });
    const fired: number[] = [];
    const timer = new SettleTimer(50, () => fired.push(Date.now()), 500);
    // Four events 10 ms apart: one fire, 50 ms after the last.
    for (let i = 0; i < 4; i++) {
      timer.hint();
      vi.advanceTimersByTime(10);
    }
    expect(timer.pending).toBe(true);
    vi.advanceTimersByTime(200);
    expect(fired).toEqual([80]);
    expect(timer.pending).toBe(false);

    // Events every 10 ms for a second: fires at the cap (500 ms after the first), not never.
    const stormAt = Date.now();
    for (let i = 0; i < 100; i++) {
      timer.hint();
      vi.advanceTimersByTime(10);
    }
    expect(fired[1]).toBe(stormAt + 500);
    vi.advanceTimersByTime(200);

    fired.length = 0;
    const wakeAt = Date.now() + 120;
    timer.wakeAt(wakeAt);
    vi.advanceTimersByTime(200);
    expect(fired).toEqual([wakeAt]);
    timer.close();
  });
});
