import { createHash } from 'node:crypto';
import type { BigIntStats, Dirent, Stats } from 'node:fs';
import { lstatSync, readdirSync, statSync } from 'node:fs';
import { lstat, readlink, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { MAX_CONFIG_FILE_BYTES } from '../config/config-host.js';
import { errnoReason, notRegularReason, readRegularFile } from '../config/regular-file.js';
import { isSettling, isTrustworthy, stampOf, writtenBeforeLastChange, type FileStamp } from './file-stamp.js';
import type { VassalSource } from './vassal-source.js';

/** A vassal file as found on disk: where, and what it says. */
export interface VassalFile {
  readonly path: string;
  readonly text: string;
  /** sha256 of the content: decisions are made by content, never by timestamps. */
  readonly hash: string;
  /** Who owns it (emperor-tyrant runs the vassal as that user); a chown changes ctime, so it is never stale. */
  readonly owner: FileOwner;
  /** `dev:ino` of the file read (the target, for a symlink): a file replaced by another is another inode. */
  readonly inode: string;
  /** Its mtime (ns) when read: with the same inode and content, a later one means it was touched. */
  readonly mtimeNs: bigint;
}

/**
 * Owner of a vassal file after following symlinks (from the descriptor its text was read from), and owner of the
 * directory entry itself.
 */
export interface FileOwner {
  readonly uid: number;
  readonly gid: number;
  /** Owner of the name in the vassal directory: the link's, when it is a symlink; the file's otherwise. */
  readonly linkUid: number;
}

/** What one scan of the vassal sources found. */
export interface Scan {
  /** Complete, settled vassal files by path. */
  readonly files: Map<string, VassalFile>;
  /**
   * Vassal paths not to act on yet, with the wall-clock time (ms) after which they will have settled: files
   * changed within the settle time (maybe half-written), and dangling links whose target directory just changed.
   */
  readonly settling: Map<string, number>;
  /**
   * Directories changed within the settle time (and missing bases whose parent did), with when they settle: an
   * absent path under one may reappear in a moment (an editor renamed the old file away and writes the new one).
   */
  readonly settlingDirs: Map<string, number>;
  /**
   * Paths (files, or whole directories) that exist but could not be read, with the reason. Their vassals keep
   * running as they are: a permission slip must not stop a service. Paths that are gone are simply absent.
   */
  readonly unreadable: Map<string, string>;
  /** Vassal paths that are symlinks to nothing: reported, and their vassals stop. */
  readonly dangling: Set<string>;
  /** Sources whose base directory does not exist. */
  readonly missing: string[];
  /**
   * Directories whose events matter: every directory walked, the directories each symlink hop of a vassal file
   * goes through (an edit of `apps-available/x.ini` must be seen through `apps-enabled/x.ini`), and for a missing
   * base or dangling target, the nearest directory that exists (to see it appear).
   */
  readonly watchDirs: Map<string, DirIdentity>;
}

/** `dev:ino` of a directory: a watch follows the inode, so a directory swapped under the same path needs a new one. */
export type DirIdentity = string;

interface DirStat {
  readonly mtimeMs: number;
  readonly dev: number;
  readonly ino: number;
}

export function hashText(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

interface Cached {
  readonly stamp: FileStamp;
  readonly file: VassalFile;
  /** False while the file is too young for its stamp to vouch for its content (see RACY_MARGIN_NS). */
  readonly trusted: boolean;
}

/** How many symlink hops are followed before a chain counts as a loop (Linux's own limit is 40). */
const MAX_HOPS = 40;

/**
 * Reads the vassal sources. Keeps what it read, keyed by a stat stamp, so that a rescan of an unchanged directory
 * costs one stat per file and no reads. A file that is read is read through one descriptor (readRegularFile): its
 * text, owner, type and stamp all come from it, only regular files up to MAX_CONFIG_FILE_BYTES are read, and
 * nothing blocks. Never throws: what cannot be read is reported in the Scan.
 */
export class VassalScanner {
  #cache = new Map<string, Cached>();

  /** `settleMs`: how long after its last change a file or directory counts as still changing. */
  async scan(sources: readonly VassalSource[], settleMs: number): Promise<Scan> {
    const now = Date.now();
    const scan: Scan = {
      files: new Map(),
      settling: new Map(),
      settlingDirs: new Map(),
      unreadable: new Map(),
      dangling: new Set(),
      missing: [],
      watchDirs: new Map(),
    };
    const cache = new Map<string, Cached>();
    const seen = new Set<string>();
    const noteDir = (dir: string, st: DirStat): void => {
      scan.watchDirs.set(dir, `${st.dev}:${st.ino}`);
      if (isSettling(st.mtimeMs, now, settleMs)) scan.settlingDirs.set(dir, st.mtimeMs + settleMs);
    };

    for (const source of sources) {
      const candidates: string[] = [];
      const baseStat = await stat(source.base).catch((err: NodeJS.ErrnoException) => err);
      if (baseStat instanceof Error || !baseStat.isDirectory()) {
        scan.missing.push(source.spec);
        // Watch the nearest directory that exists, to see the base appear; if that directory just changed, the
        // base may be in the middle of a swap (rm -r dir; mv dir.new dir): hold its vassals a moment.
        const ancestor = await nearestExisting(path.dirname(source.base));
        if (ancestor) {
          noteDir(ancestor.dir, ancestor.st);
          if (scan.settlingDirs.has(ancestor.dir)) scan.settlingDirs.set(source.base, ancestor.st.mtimeMs + settleMs);
        }
        continue;
      }
      await this.#walk(source, source.base, 0, candidates, scan, noteDir);
      for (const file of candidates) {
        if (seen.has(file)) continue;
        seen.add(file);
        await this.#readCandidate(file, now, settleMs, scan, cache, noteDir);
      }
    }
    this.#cache = cache;
    return scan;
  }

  async #walk(
    source: VassalSource,
    dir: string,
    level: number,
    out: string[],
    scan: Scan,
    noteDir: (dir: string, st: DirStat) => void,
  ): Promise<void> {
    let entries: Dirent[];
    try {
      // Synchronous: the safety-net rescan lists and stats every file every few seconds, and through fs/promises
      // each call costs a thread-pool round trip and a promise, ten times the stat itself (bench/PROFILE.md).
      entries = readdirSync(dir, { withFileTypes: true });
      // Stat after listing: a rename between the two must show as a recent change of the directory, or a
      // listing without the renamed-away file would look settled (and its vassal be stopped mid-save).
      noteDir(dir, statSync(dir));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') scan.unreadable.set(dir, (err as Error).message);
      return;
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = path.join(dir, entry.name);
      const couldBeDir = entry.isDirectory() || entry.isSymbolicLink();
      if (couldBeDir && source.descendInto(entry.name, level + 1) && (entry.isDirectory() || (await isDirectory(full)))) {
        await this.#walk(source, full, level + 1, out, scan, noteDir);
      } else if (!entry.isDirectory() && source.matches(full)) {
        out.push(full);
      }
    }
  }

  async #readCandidate(
    file: string,
    now: number,
    settleMs: number,
    scan: Scan,
    cache: Map<string, Cached>,
    noteDir: (dir: string, st: DirStat) => void,
  ): Promise<void> {
    let link: Stats | undefined;
    try {
      link = lstatSync(file, { throwIfNoEntry: false });
    } catch {
      link = undefined;
    }
    if (!link) return; // Gone since the listing: just absent.
    if (link.isSymbolicLink()) await this.#noteLinkDirs(file, scan, noteDir);
    let st: Stats;
    try {
      // A file that is no link is what lstat saw: one stat per unchanged file and rescan.
      st = link.isSymbolicLink() ? statSync(file) : link;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && link.isSymbolicLink()) scan.dangling.add(file);
      else if (code !== 'ENOENT') scan.unreadable.set(file, errnoReason(err as NodeJS.ErrnoException));
      return;
    }
    // A FIFO, device, socket or directory named like a vassal file: reported, never opened (a FIFO would block).
    const notRegular = notRegularReason(st.mode);
    if (notRegular) {
      scan.unreadable.set(file, notRegular);
      return;
    }
    // A file renamed in complete acts at once; one written within the settle time may still be half-written.
    const changedAtMs = st.ctimeMs;
    if (!writtenBeforeLastChange(st) && isSettling(changedAtMs, now, settleMs)) {
      this.#hold(file, changedAtMs + settleMs, scan, cache);
      return;
    }
    const stamp = exactStamp(file, st, link.isSymbolicLink());
    const cached = this.#cache.get(file);
    if (cached && cached.trusted && cached.stamp === stamp) {
      cache.set(file, cached);
      scan.files.set(file, cached.file);
      return;
    }
    // The stats above only say whether to read. What is used comes from the one descriptor the text is read
    // from: its type, owner and stamp, whatever the path names by now; and the entry is taken again in full
    // precision (an overlayfs inode number can exceed 2^53, which a plain stat rounds) to compare it with.
    let entry: BigIntStats | undefined;
    try {
      entry = lstatSync(file, { bigint: true, throwIfNoEntry: false });
    } catch (err) {
      // ENOTDIR, ESTALE, EIO: this file is unreadable now; the scan of the others goes on.
      scan.unreadable.set(file, errnoReason(err as NodeJS.ErrnoException));
      return;
    }
    if (!entry) return;
    const readAtNs = BigInt(Date.now()) * 1_000_000n;
    const read = readRegularFile(file, { limit: MAX_CONFIG_FILE_BYTES });
    if (!read.ok) {
      if (read.code === 'ENOENT' || read.code === 'ENOTDIR') {
        if (entry.isSymbolicLink() && (await isSymlink(file))) scan.dangling.add(file);
      } else {
        scan.unreadable.set(file, read.reason);
      }
      return;
    }
    const fst = read.stat;
    // The name must still be the entry lstat saw (the file itself, or the same symlink inode, whose target cannot
    // change in place), or the link's owner would be another entry's: then look again once it has settled.
    const again = entry.isSymbolicLink() ? await lstat(file, { bigint: true }).catch(() => undefined) : fst;
    const sameEntry = again !== undefined && again.dev === entry.dev && again.ino === entry.ino;
    const openedAtMs = Number(fst.ctimeNs / 1_000_000n);
    if (!sameEntry || (!writtenBeforeLastChange(fst) && isSettling(openedAtMs, now, settleMs))) {
      this.#hold(file, Math.max(openedAtMs, now) + settleMs, scan, cache);
      return;
    }
    const owner = { uid: Number(fst.uid), gid: Number(fst.gid), linkUid: Number(entry.uid) };
    const vassalFile: VassalFile = { path: file, text: read.text, hash: hashText(read.text), owner, inode: `${fst.dev}:${fst.ino}`, mtimeNs: fst.mtimeNs };
    cache.set(file, { stamp: stampOf(fst), file: vassalFile, trusted: isTrustworthy(fst, readAtNs) });
    scan.files.set(file, vassalFile);
  }

  /** Leaves a file that is changing as it is until `settledAt` (ms), keeping its last good read to compare with. */
  #hold(file: string, settledAt: number, scan: Scan, cache: Map<string, Cached>): void {
    scan.settling.set(file, settledAt);
    const previous = this.#cache.get(file);
    if (previous) cache.set(file, { ...previous, trusted: false });
  }

  /**
   * Follows a symlink chain hop by hop and notes the directory each hop points into, so that an edit or a
   * rename there is an event. For a dangling chain, notes the nearest existing directory of the missing target
   * (to see it appear) and holds the link a moment if that directory just changed (its target being replaced).
   */
  async #noteLinkDirs(file: string, scan: Scan, noteDir: (dir: string, st: DirStat) => void): Promise<void> {
    let current = file;
    for (let hop = 0; hop < MAX_HOPS; hop++) {
      let target: string;
      try {
        target = path.resolve(path.dirname(current), await readlink(current));
      } catch {
        return; // Not a link (any more): the chain ends here.
      }
      const dir = await realpath(path.dirname(target)).catch(() => undefined);
      const where = dir ? { dir, st: await stat(dir).catch(() => undefined) } : await nearestExisting(path.dirname(target));
      if (!where?.st) return;
      noteDir(where.dir, where.st);
      const settledAt = scan.settlingDirs.get(where.dir);
      if (!dir && settledAt !== undefined) scan.settling.set(file, settledAt);
      current = dir ? path.join(dir, path.basename(target)) : target;
    }
  }
}

async function nearestExisting(dir: string): Promise<{ dir: string; st: DirStat } | undefined> {
  for (let d = dir; ; d = path.dirname(d)) {
    const st = await stat(d).catch(() => undefined);
    if (st?.isDirectory()) return { dir: d, st };
    if (d === path.dirname(d)) return undefined;
  }
}

async function isDirectory(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
}

async function isSymlink(file: string): Promise<boolean> {
  return (await lstat(file).catch(() => undefined))?.isSymbolicLink() ?? false;
}

/**
 * The stamp of `file` from its plain stat `st`, or, when the device or inode number is too large for a double (an
 * overlayfs inode with xino bits set), from a BigInt stat: two files whose inode numbers round to the same double,
 * swapped under one name (`ln -sfn blue.ini app.ini`) within one timestamp tick and with the same size, would
 * otherwise look unchanged. Undefined when that stat fails: then the file is read.
 */
function exactStamp(file: string, st: Stats, followLink: boolean): FileStamp | undefined {
  if (Number.isSafeInteger(st.ino) && Number.isSafeInteger(st.dev)) return stampOf(st);
  try {
    return stampOf(followLink ? statSync(file, { bigint: true }) : lstatSync(file, { bigint: true }));
  } catch {
    return undefined;
  }
}
