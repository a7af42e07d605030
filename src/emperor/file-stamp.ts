import type { BigIntStats } from 'node:fs';

/**
 * What a stat says about a file's content without reading it: device, inode, size, mtime and ctime in ns. Any
 * write, truncate, rename over, `touch -d` or symlink retarget (another inode) changes it, so an equal stamp lets
 * a rescan skip the read; a different stamp only means "read it": content decides.
 */
export type FileStamp = string;

export function stampOf(st: BigIntStats): FileStamp {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
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
