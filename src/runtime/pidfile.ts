import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { writeExclusive } from './exclusive-file.js';

/** Reads a pid from a pidfile; throws an Error naming the file when it is missing or holds no pid. */
export function readPidfile(file: string): number {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read pidfile ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`pidfile ${file} does not hold a pid (it says ${JSON.stringify(text.trim().slice(0, 40))})`);
  return pid;
}

/**
 * Writes our pid atomically (temp file + rename, so a reader never sees it half-written; a stale pidfile is
 * replaced) with mode exactly 0644: systemd refuses a world-writable pidfile for Type=forking, and the umask must not
 * decide. The temp file has a random name and is created exclusively without following links (writeExclusive), so
 * nothing planted next to the pidfile is written through. Throws on failure (the temp file is removed).
 */
export function writePidfile(file: string, pid = process.pid): void {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  writeExclusive(tmp, `${pid}\n`, 0o644);
  try {
    renameSync(tmp, file);
  } catch (err) {
    unlinkSync(tmp);
    throw err;
  }
}

/** Removes the pidfile only if it still names `pid`: a successor's pidfile is not ours to delete. */
export function removePidfile(file: string, pid = process.pid): void {
  try {
    if (readPidfile(file) === pid) rmSync(file, { force: true });
  } catch {
    // Already gone or rewritten: nothing of ours to remove.
  }
}
