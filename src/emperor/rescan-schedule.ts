/**
 * When the safety-net rescan runs. File events do the work; the rescan catches what they miss (a lost event, an
 * edit on another host of a network filesystem). Run at a fixed 3 s, as uWSGI's emperor polls, it was nearly all of
 * an idle emperor's CPU (bench/PROFILE.md). By default it backs off while there is nothing to catch: each quiet
 * rescan doubles the interval, up to a cap; a file event, a change no event reported, or a watch that failed brings
 * it back to the base at once. Pure.
 */

export interface RescanPolicy {
  /** emperor-freq, in ms: the interval after anything happened; 0: no rescan. */
  readonly baseMs: number;
  /** The longest interval (ms); equal to baseMs for a fixed interval. */
  readonly maxMs: number;
}

/** How far a quiet emperor's rescan backs off by default: a missed change is still seen within this (ms). */
export const DEFAULT_RESCAN_MAX_MS = 30_000;

/**
 * The schedule for an emperor-freq of `baseMs`: backing off to DEFAULT_RESCAN_MAX_MS unless `fixed` (emperor-freq
 * written in the config: uWSGI's poll interval, taken as asked) or a watched directory is on a filesystem where
 * changes made elsewhere make no event (remoteFilesystem).
 */
export function rescanPolicy(baseMs: number, fixed: boolean): RescanPolicy {
  return { baseMs, maxMs: fixed || baseMs <= 0 ? baseMs : Math.max(baseMs, DEFAULT_RESCAN_MAX_MS) };
}

/** The interval after a rescan that ran `previousMs` after the one before; `quiet`: nothing happened meanwhile. */
export function nextRescanMs(previousMs: number, policy: RescanPolicy, quiet: boolean): number {
  if (!quiet) return policy.baseMs;
  return Math.min(policy.maxMs, Math.max(policy.baseMs, previousMs * 2));
}

/**
 * statfs(2) f_type of filesystems on which a change made by another host, or by a FUSE daemon itself, makes no
 * inotify event here: the rescan is the only way to see it, so it keeps its base interval. From linux/magic.h and
 * the filesystems' own sources.
 */
const REMOTE_TYPES: ReadonlyMap<number, string> = new Map([
  [0x6969, 'nfs'],
  [0xff534d42, 'cifs'],
  [0xfe534d42, 'smb2'],
  [0x517b, 'smb'],
  [0x65735546, 'fuse'],
  [0x01021997, 'v9fs'],
  [0x00c36400, 'ceph'],
  [0x47504653, 'gpfs'],
  [0x0bd00bd0, 'lustre'],
  [0x5346414f, 'afs'],
  [0x6b414653, 'kafs'],
  [0x7461636f, 'ocfs2'],
  [0x01161970, 'gfs2'],
  [0x73757245, 'coda'],
  [0x786f4256, 'vboxsf'],
]);

/** The name of `fsType` when it is a filesystem whose remote changes make no event here, else undefined. */
export function remoteFilesystem(fsType: number): string | undefined {
  // f_type is a signed long: on 32-bit systems the magic numbers above 2^31 come negative.
  return REMOTE_TYPES.get(fsType >>> 0);
}
