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

  function recorder(now: number) {
    vi.useFakeTimers({ now });
    const fired: number[] = [];
    const timer = new SettleTimer(50, () => fired.push(Date.now()), 500);
    return { fired, timer };
  }

  it('fires once per burst of other events, after the quiet time', () => {
    const { fired, timer } = recorder(0);
    // Four events 10 ms apart (a directory, a temp file): one look, 50 ms after the last.
    for (let i = 0; i < 4; i++) {
      timer.hint();
      vi.advanceTimersByTime(10);
    }
    expect(fired).toEqual([]);
    expect(timer.pending).toBe(true);
    vi.advanceTimersByTime(200);
    expect(fired).toEqual([80]);
    expect(timer.pending).toBe(false);
    timer.close();
  });

  it('looks at once at the first event naming a vassal file, even within a burst, and once more after the quiet time', () => {
    const { fired, timer } = recorder(0);
    // A temp file written (not a vassal name), then renamed to app.ini 5 ms later, then chokidar's own event for it.
    timer.hint(Date.now());
    vi.advanceTimersByTime(5);
    timer.hint(Date.now(), true);
    vi.advanceTimersByTime(0);
    expect(fired).toEqual([5]);
    vi.advanceTimersByTime(2);
    timer.hint(Date.now(), true);
    vi.advanceTimersByTime(200);
    // The second vassal-file event of the burst waits for the quiet time, 50 ms after it.
    expect(fired).toEqual([5, 57]);
    timer.close();
  });

  it('a lone vassal-file event (a rename into the directory) gets one look, at once', () => {
    const { fired, timer } = recorder(1000);
    timer.hint(Date.now(), true);
    vi.advanceTimersByTime(0);
    expect(fired).toEqual([1000]);
    expect(timer.pending).toBe(true);
    vi.advanceTimersByTime(49);
    expect(timer.pending).toBe(true);
    vi.advanceTimersByTime(1);
    expect(timer.pending).toBe(false);
    vi.advanceTimersByTime(500);
    expect(fired).toEqual([1000]);
    // The next one is a new burst: looked at once again.
    timer.hint(Date.now(), true);
    vi.advanceTimersByTime(0);
    expect(fired).toEqual([1000, 1550]);
    timer.close();
  });

  it('events arriving together are one look', () => {
    const { fired, timer } = recorder(0);
    // One inotify read delivers several events in the same turn: the look comes after all of them, and sees them.
    timer.hint(0, true);
    timer.hint(0, true);
    timer.hint(0);
    vi.advanceTimersByTime(100);
    expect(fired).toEqual([0]);
    expect(timer.pending).toBe(false);
    timer.close();
  });

  it('a steady stream of vassal-file events is looked at no less often than every maxWait', () => {
    const { fired, timer } = recorder(0);
    for (let i = 0; i < 100; i++) {
      timer.hint(Date.now(), true);
      vi.advanceTimersByTime(10);
    }
    // A look at 0; the cap at 500 ends that burst; the event at 500 begins the next, looked at once, capped at 1000.
    expect(fired).toEqual([0, 500, 500, 1000]);
    timer.close();
  });

  it('wakeAt asks for one more look at that time, and close stops everything', () => {
    const { fired, timer } = recorder(0);
    timer.wakeAt(120);
    timer.wakeAt(300);
    vi.advanceTimersByTime(400);
    // The earliest wake-up wins; the later one was merged into it (the look then asks again if it must).
    expect(fired).toEqual([120]);
    timer.wakeAt(500);
    timer.close();
    timer.hint(Date.now(), true);
    vi.advanceTimersByTime(1000);
    expect(fired).toEqual([120]);
  });
});
