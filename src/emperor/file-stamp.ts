import type { BigIntStats, Stats } from 'node:fs';

/**
 * What a stat says about a file's content without reading it: device, inode, size, mtime and ctime in ns. Any
 * write, truncate, rename over, `touch -d` or symlink retarget (another inode) changes it, so an equal stamp lets
 * a rescan skip the read; a different stamp only means "read it": content decides.
 */
export type FileStamp = string;

export function stampOf(st: BigIntStats | Stats): FileStamp {
  if (typeof st.dev === 'number') {
    const n = st as Stats;
    return `${n.dev}:${n.ino}:${n.size}:${n.mtimeMs}:${n.ctimeMs}`;
  }
  // Device and inode exactly: for numbers a double holds, the same text as a plain stat's; larger ones (an overlayfs
  // inode with xino bits) are stamped from BigInt stats on both sides (vassal-files.ts, exactStamp).
  const b = st as BigIntStats;
  return `${b.dev}:${b.ino}:${b.size}:${msOf(b.mtimeNs)}:${msOf(b.ctimeNs)}`;
}

/**
 * A time in ns as the ms a number Stats gives for it (Node: seconds x 1e3 + nanoseconds / 1e6, in doubles), so that
 * the stamp of a file read through a descriptor (BigInt stats) equals the stamp of a later plain stat of it. The
 * rescan uses plain stats: a BigInt stat allocates some twenty BigInts, which at every rescan of every file was most
 * of an idle emperor's garbage. A double keeps about 0.4 microseconds of today's times, far below the kernel's
 * timestamp tick; within it, equal stamps are still only trusted after RACY_MARGIN_NS.
 */
function msOf(ns: bigint): number {
  return Number(ns / 1_000_000_000n) * 1e3 + Number(ns % 1_000_000_000n) / 1e6;
}

/**
 * File systems keep timestamps coarser than writes come (the kernel's clock ticks every few ms; some file systems
 * store whole seconds, FAT two), so a file written twice within one tick, same size, keeps its stamp. As git does
 * with "racily clean" index entries, a stamp is trusted only once the file's ctime is older than the read by more
 * than this margin (ns); younger files are read again at every rescan, which costs little since they are few.
 */
export const RACY_MARGIN_NS = 2_000_000_000n;

/** Whether a stamp taken at `readAtNs` (wall clock, ns) may later stand for the content read then. */
export function isTrustworthy(st: BigIntStats, readAtNs: bigint): boolean {
  return readAtNs - st.ctimeNs > RACY_MARGIN_NS;
}

/**
 * Whether something changed at `changedAtMs` (ctime of a file, mtime of a directory) so recently, relative to
 * `nowMs`, that it may still be in the middle of a change (an editor between its rename and its write, a copy
 * between chunks): then it is left as it is until `settleMs` have passed. A time far in the future (the clock was
 * stepped back) does not count as recent, so it cannot hold anything for long.
 */
export function isSettling(changedAtMs: number, nowMs: number, settleMs: number): boolean {
  return changedAtMs > nowMs - settleMs && changedAtMs < nowMs + settleMs;
}

/**
 * Whether a file's content was complete before its last change (its ctime): its mtime is older than its ctime. A
 * write moves both; a rename or link into the directory, a chmod, a chown, or the times set by `cp -p`, `tar` or
 * `rsync` move only the ctime. Such a file was written in full before it was renamed into place (or had its mode or
 * times set): it needs no settle time. A write after that moves the mtime up to the ctime again. Written and renamed
 * within one tick of the file system's clock, the two are equal, and the file waits as one being written does.
 */
export function writtenBeforeLastChange(st: Pick<Stats, 'mtimeMs' | 'ctimeMs'> | Pick<BigIntStats, 'mtimeNs' | 'ctimeNs'>): boolean {
  return 'mtimeNs' in st ? st.mtimeNs < st.ctimeNs : st.mtimeMs < st.ctimeMs;
}
