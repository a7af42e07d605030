/**
 * Acting on a unix socket's file without following links. A path is looked up once, into a descriptor; what is
 * checked and what is changed is then the inode behind that descriptor, reached through /proc/self/fd/N, which the
 * kernel resolves to that inode and not to the path again. So swapping a symlink (to /etc/shadow, say) into the
 * socket's place, or a directory on the way to it, between our check and our change changes nothing but the link.
 * Linux only (O_PATH, /proc).
 */
import fs from 'node:fs';
import path from 'node:path';

/** Linux's O_PATH (asm-generic/fcntl.h): names an inode without opening it, so no read, no device side effect. */
const O_PATH = 0o10000000;

/** Which file a socket was bound to (lstat's dev and ino), for "is it still ours" checks. */
export interface FileIdentity {
  readonly dev: number;
  readonly ino: number;
}

/** The file at a socket path is not the socket we expect (it is something else, or another socket). */
export class SocketFileError extends Error {
  constructor(
    readonly path: string,
    readonly code: 'ENOTSOCK' | 'ECHANGED',
    message: string,
  ) {
    super(message);
    this.name = 'SocketFileError';
  }
}

function describe(st: fs.Stats): string {
  if (st.isSymbolicLink()) return 'a symlink';
  if (st.isDirectory()) return 'a directory';
  if (st.isFile()) return 'a regular file';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  return 'a device';
}

/**
 * Runs `act` with an O_PATH descriptor of the file at `file` itself (a symlink there is not followed), after
 * checking that it is a socket and, with `expected`, that very inode. Returns what `act` returns. Throws
 * SocketFileError when it is not, and the system error (ENOENT, EACCES) when the path cannot be looked up.
 */
export function withSocketFile<T>(file: string, expected: FileIdentity | undefined, act: (fd: number, id: FileIdentity) => T): T {
  const fd = fs.openSync(file, O_PATH | fs.constants.O_NOFOLLOW);
  try {
    const st = fs.fstatSync(fd);
    if (!st.isSocket()) throw new SocketFileError(file, 'ENOTSOCK', `${file} is ${describe(st)}, not a socket`);
    if (expected && (st.dev !== expected.dev || st.ino !== expected.ino)) {
      throw new SocketFileError(file, 'ECHANGED', `${file} is no longer the socket the supervisor created`);
    }
    return act(fd, { dev: st.dev, ino: st.ino });
  } finally {
    fs.closeSync(fd);
  }
}

/** The inode behind an O_PATH descriptor, as a path the kernel resolves to that inode (a "magic link"). */
export const inodePath = (fd: number): string => `/proc/self/fd/${fd}`;

/**
 * chmod and/or chown of the inode behind `fd` (from withSocketFile); undefined leaves a part as it is. Throws the
 * system error (EPERM), or Error with code ENOPROC when /proc is not there to reach the inode by.
 */
export function setInodePermissions(fd: number, change: { mode?: number; uid?: number; gid?: number }): void {
  try {
    if (change.mode !== undefined) fs.chmodSync(inodePath(fd), change.mode);
    if (change.uid !== undefined || change.gid !== undefined) fs.chownSync(inodePath(fd), change.uid ?? -1, change.gid ?? -1);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    // Our own descriptor is open, so a missing /proc/self/fd/N means /proc itself is missing.
    throw Object.assign(new Error(`cannot reach the socket file through ${inodePath(fd)}: is /proc mounted?`), { code: 'ENOPROC' });
  }
}

/** Whether the file at `file` is still the socket `id` (not following a link there). False when it is gone. */
export function isSameSocket(file: string, id: FileIdentity): boolean {
  try {
    const st = fs.lstatSync(file);
    return st.isSocket() && st.dev === id.dev && st.ino === id.ino;
  } catch {
    return false;
  }
}

/**
 * Removes the socket file at `file` only while it is the inode `id`: the name is looked up in an O_PATH descriptor
 * of its directory, so a directory on the way swapped for a symlink between the check and the unlink cannot
 * redirect the unlink elsewhere. Returns whether it removed it (false when it is gone or another file). Throws the
 * system error of the unlink (EACCES, EPERM).
 */
export function removeSocketIfSame(file: string, id: FileIdentity): boolean {
  let dir: number;
  try {
    dir = fs.openSync(path.dirname(file), O_PATH | fs.constants.O_DIRECTORY);
  } catch {
    return false;
  }
  try {
    const entry = path.join(inodePath(dir), path.basename(file));
    if (!isSameSocket(entry, id)) return false;
    fs.unlinkSync(entry);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  } finally {
    fs.closeSync(dir);
  }
}
