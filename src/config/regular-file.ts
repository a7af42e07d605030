import { closeSync, constants, fstatSync, openSync, readSync, type BigIntStats } from 'node:fs';

/**
 * Linux's O_PATH (asm-generic/fcntl.h: 010000000). Node has no constant for it but hands numeric flags to open(2)
 * as they are. A descriptor opened with it names an inode without opening the file itself: no driver `open` runs
 * (a tape rewinds, a FIFO waits for a writer), so the type can be checked before anything is really opened.
 */
const O_PATH = 0o10000000;

/** A read of a regular file: its text, the bytes read, and the fstat of the very descriptor read from. */
export type RegularFileRead =
  | { readonly ok: true; readonly text: string; readonly bytes: number; readonly stat: BigIntStats }
  | {
      readonly ok: false;
      /** Why, phrased to follow "cannot read PATH: ", e.g. `is a FIFO (named pipe), not a regular file`. */
      readonly reason: string;
      /** errno code (`ENOENT`, `ELOOP`, `EACCES`, `ENOTDIR`, `EAGAIN`, ...), `ENOTREG` for another type, `EFBIG` over the limit. */
      readonly code: string;
    };

export interface ReadOptions {
  /** Most bytes accepted; one more is read to tell "exactly the limit" from "more". */
  readonly limit: number;
  /** Follow a symlink in the last component (default true); false refuses the link itself (O_NOFOLLOW). */
  readonly follow?: boolean;
}

/** What a file of this mode is, for a refusal; undefined for a regular file. */
export function notRegularReason(mode: number | bigint): string | undefined {
  switch (Number(mode) & constants.S_IFMT) {
    case constants.S_IFREG:
      return undefined;
    case constants.S_IFIFO:
      return 'is a FIFO (named pipe), not a regular file';
    case constants.S_IFCHR:
      return 'is a character device, not a regular file';
    case constants.S_IFBLK:
      return 'is a block device, not a regular file';
    case constants.S_IFDIR:
      return 'is a directory, not a regular file';
    case constants.S_IFSOCK:
      return 'is a socket, not a regular file';
    case constants.S_IFLNK:
      return 'is a symbolic link, which is not followed here';
    default:
      return 'is not a regular file';
  }
}

/** A file system error as a reason that completes "cannot read PATH: " (`no such file`, `permission denied`, ...). */
export function errnoReason(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOENT':
      return 'no such file';
    case 'ELOOP':
      return 'too many levels of symbolic links (a symlink loop?)';
    case 'EACCES':
      return 'permission denied';
    case 'ENOTDIR':
      return 'a component of the path is not a directory';
    case 'EAGAIN':
      return 'reading it would block (a file that is not a plain file on disk)';
    default:
      return err.message;
  }
}

const refuse = (reason: string, code: string): RegularFileRead => ({ ok: false, reason, code });

/**
 * Reads a regular file whole, never blocking and never reading more than `limit + 1` bytes, whatever the path
 * names. Each step holds on to the inode the previous one found, so a swap of the path in between changes nothing:
 * 1. open with O_PATH (and O_NOFOLLOW unless `follow`), fstat: refuse anything but a regular file, unopened;
 * 2. open `/proc/self/fd/N` read-only and non-blocking: the same inode again, no path resolved; fstat it;
 * 3. read in chunks, counting the bytes actually read (stat sizes are 0 for /proc files and devices).
 * Returns the text (UTF-8) with the fstat of the descriptor it came from (owner, type, dev/ino, times), or why
 * not. Synchronous, as config reads are. Linux only (O_PATH, /proc). Never throws.
 */
export function readRegularFile(path: string, options: ReadOptions): RegularFileRead {
  const { limit } = options;
  let handle: number | undefined;
  let fd: number | undefined;
  try {
    try {
      handle = openSync(path, O_PATH | (options.follow === false ? constants.O_NOFOLLOW : 0));
    } catch (err) {
      return refuse(errnoReason(err as NodeJS.ErrnoException), (err as NodeJS.ErrnoException).code ?? 'EIO');
    }
    const found = fstatSync(handle, { bigint: true });
    const kind = notRegularReason(found.mode);
    if (kind) return refuse(kind, 'ENOTREG');
    if (found.size > BigInt(limit)) return refuse(`${found.size} bytes is too big for a config file (limit ${limit})`, 'EFBIG');
    try {
      fd = openSync(`/proc/self/fd/${handle}`, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
      // The file is there (the O_PATH descriptor holds it): a missing /proc/self/fd means no /proc, not no file.
      if (code === 'ENOENT') return refuse('cannot re-open it through /proc/self/fd (is /proc mounted?)', 'ENOPROC');
      return refuse(errnoReason(err as NodeJS.ErrnoException), code);
    }
    const stat = fstatSync(fd, { bigint: true });
    // /proc/self/fd/N re-opens the inode the O_PATH descriptor holds; this only guards against a /proc that lies.
    if (stat.dev !== found.dev || stat.ino !== found.ino || !stat.isFile()) return refuse('changed while it was being opened', 'ESTALE');
    let buffer = Buffer.allocUnsafe(Math.min(limit + 1, Math.max(Number(stat.size) + 1, 4096)));
    let bytes = 0;
    for (;;) {
      if (bytes === buffer.length) {
        if (bytes > limit) break;
        const bigger = Buffer.allocUnsafe(Math.min(limit + 1, buffer.length * 2));
        buffer.copy(bigger, 0, 0, bytes);
        buffer = bigger;
      }
      let n: number;
      try {
        n = readSync(fd, buffer, bytes, buffer.length - bytes, null);
      } catch (err) {
        return refuse(errnoReason(err as NodeJS.ErrnoException), (err as NodeJS.ErrnoException).code ?? 'EIO');
      }
      if (n === 0) break;
      bytes += n;
    }
    if (bytes > limit) return refuse(`more than ${limit} bytes, too big for a config file (limit ${limit})`, 'EFBIG');
    return { ok: true, text: buffer.toString('utf8', 0, bytes), bytes, stat };
  } catch (err) {
    // fstat of a descriptor just opened does not fail; if it ever does, the caller still gets a reason.
    return refuse(errnoReason(err as NodeJS.ErrnoException), (err as NodeJS.ErrnoException).code ?? 'EIO');
  } finally {
    if (fd !== undefined) closeSync(fd);
    if (handle !== undefined) closeSync(handle);
  }
}
