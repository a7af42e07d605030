import { describe, expect, it } from 'vitest';
import { formatNotify, monotonicUsec, notifyTarget } from '../../src/runtime/sd-notify.js';

describe('notifyTarget: what systemd asked of this process', () => {
  it('reads NOTIFY_SOCKET and WATCHDOG_USEC', () => {
    expect(notifyTarget({ NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '30000000' }, 42)).toEqual({ socket: '/run/systemd/notify', watchdogUsec: 30_000_000 });
  });

  it('no NOTIFY_SOCKET (not Type=notify, or an empty value): nothing to send', () => {
    expect(notifyTarget({}, 42).socket).toBeUndefined();
    expect(notifyTarget({ NOTIFY_SOCKET: '' }, 42).socket).toBeUndefined();
  });

  it('a watchdog meant for another process (WATCHDOG_PID), or a malformed interval, is not ours to keep', () => {
    expect(notifyTarget({ NOTIFY_SOCKET: '/n', WATCHDOG_USEC: '1000', WATCHDOG_PID: '41' }, 42).watchdogUsec).toBeUndefined();
    expect(notifyTarget({ NOTIFY_SOCKET: '/n', WATCHDOG_USEC: '1000', WATCHDOG_PID: '42' }, 42).watchdogUsec).toBe(1000);
    for (const bad of ['0', '-5', 'soon', '1.5', '']) expect(notifyTarget({ NOTIFY_SOCKET: '/n', WATCHDOG_USEC: bad }, 42).watchdogUsec).toBeUndefined();
  });
});

describe('formatNotify', () => {
  it('one KEY=VALUE per line; a line break in a value cannot start a field of its own', () => {
    expect(formatNotify({ RELOADING: 1, MONOTONIC_USEC: 123 })).toBe('RELOADING=1\nMONOTONIC_USEC=123');
    expect(formatNotify({ STATUS: 'a\nREADY=1' })).toBe('STATUS=a READY=1');
  });

  it('MONOTONIC_USEC is CLOCK_MONOTONIC in microseconds (the clock process.hrtime reads)', () => {
    const before = process.hrtime.bigint() / 1000n;
    const now = BigInt(monotonicUsec());
    expect(now >= before && now - before < 1_000_000n).toBe(true);
  });
});
