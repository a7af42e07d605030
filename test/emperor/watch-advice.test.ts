import { describe, expect, it } from 'vitest';
import { isSettling } from '../../src/emperor/file-stamp.js';
import { lostEventsAdvice, watchAdvice } from '../../src/emperor/watch-advice.js';

describe('watchAdvice', () => {
  it('ENOSPC names fs.inotify.max_user_watches, its value, a higher one, and what happens meanwhile', () => {
    const advice = watchAdvice('ENOSPC', { maxUserWatches: 8192 }, 3);
    expect(advice).toContain('fs.inotify.max_user_watches = 8192');
    expect(advice).toContain('sysctl -w fs.inotify.max_user_watches=16384');
    expect(advice).toContain('rescan every 3 s');
    expect(watchAdvice('ENOSPC', {}, 0)).toContain('emperor-freq is 0');
  });

  it('EMFILE names max_user_instances and the open file limit; other errors get none', () => {
    expect(watchAdvice('EMFILE', { maxUserInstances: 128 }, 3)).toContain('fs.inotify.max_user_instances = 128');
    expect(watchAdvice('EACCES', {}, 3)).toBeUndefined();
  });

  it('lost events name the queue limit', () => {
    expect(lostEventsAdvice({ maxQueuedEvents: 16384 })).toContain('fs.inotify.max_queued_events = 16384');
  });
});

describe('isSettling', () => {
  it('is true within the settle time after a change, false after it and for times far in the future', () => {
    expect(isSettling(990, 1000, 50)).toBe(true);
    expect(isSettling(940, 1000, 50)).toBe(false);
    expect(isSettling(1020, 1000, 50)).toBe(true);
    expect(isSettling(10_000, 1000, 50)).toBe(false);
  });
});
