import { readFileSync } from 'node:fs';

/** The kernel's inotify limits, as read from /proc (undefined where unreadable). */
export interface InotifyLimits {
  readonly maxUserWatches?: number;
  readonly maxUserInstances?: number;
  readonly maxQueuedEvents?: number;
}

/** Reads the inotify limits in force for this process (the user namespace's, where those are lower). */
export function readInotifyLimits(): InotifyLimits {
  const read = (file: string): number | undefined => {
    try {
      return Number(readFileSync(file, 'utf8').trim());
    } catch {
      return undefined;
    }
  };
  const lowest = (...values: (number | undefined)[]): number | undefined => {
    const known = values.filter((v): v is number => v !== undefined && Number.isFinite(v));
    return known.length ? Math.min(...known) : undefined;
  };
  return {
    maxUserWatches: lowest(read('/proc/sys/fs/inotify/max_user_watches'), read('/proc/sys/user/max_inotify_watches')),
    maxUserInstances: lowest(read('/proc/sys/fs/inotify/max_user_instances'), read('/proc/sys/user/max_inotify_instances')),
    maxQueuedEvents: read('/proc/sys/fs/inotify/max_queued_events'),
  };
}

const shown = (n: number | undefined): string => (n === undefined ? 'unknown' : String(n));

/**
 * What an operator should change when watching fails, or undefined for errors that are not about limits. Pure.
 * `rescanS` is the safety-net interval that keeps things working meanwhile (0: none).
 */
export function watchAdvice(code: string | undefined, limits: InotifyLimits, rescanS: number): string | undefined {
  const meanwhile =
    rescanS > 0
      ? `until then changes are picked up by the rescan every ${rescanS} s (emperor-freq)`
      : 'until then changes are not seen at all: emperor-freq is 0, so there is no rescan either';
  if (code === 'ENOSPC') {
    const next = limits.maxUserWatches ? limits.maxUserWatches * 2 : 524288;
    return (
      `the inotify watch limit is reached (fs.inotify.max_user_watches = ${shown(limits.maxUserWatches)}, shared by every ` +
      `program of this user): raise it, e.g. sysctl -w fs.inotify.max_user_watches=${next} and the same line in ` +
      `/etc/sysctl.d/; ${meanwhile}`
    );
  }
  if (code === 'EMFILE') {
    return (
      `too many inotify instances or open files (fs.inotify.max_user_instances = ${shown(limits.maxUserInstances)}; ` +
      `also check the open file limit, ulimit -n / LimitNOFILE=): raise them; ${meanwhile}`
    );
  }
  return undefined;
}

/** Advice for events that were lost (inotify queue overflow), found out by the rescan. Pure. */
export function lostEventsAdvice(limits: InotifyLimits): string {
  return (
    `file events were lost or never came: the inotify queue may have overflowed (fs.inotify.max_queued_events = ` +
    `${shown(limits.maxQueuedEvents)}; raise it with sysctl if storms are expected), or the change came through a path ` +
    'that is not watched (a network file system, a symlink hop added since)'
  );
}
