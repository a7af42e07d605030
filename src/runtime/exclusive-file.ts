import { closeSync, constants, fchmodSync, openSync, unlinkSync, writeSync } from 'node:fs';

/**
 * Creates `file`, which must not exist (O_EXCL; with O_NOFOLLOW a planted symlink makes it fail rather than be
 * followed), with exactly `mode` (fchmod on the descriptor: the umask does not decide), and writes `data`. Throws on
 * any failure; a file it created is then removed.
 */
export function writeExclusive(file: string, data: string | Buffer, mode: number): void {
  const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    fchmodSync(fd, mode);
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off);
  } catch (err) {
    closeSync(fd);
    unlinkSync(file);
    throw err;
  }
  closeSync(fd);
}
