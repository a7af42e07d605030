import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';

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
 * Writes our pid atomically (temp file + rename, so a reader never sees it half-written) with mode 0644: systemd
 * refuses a world-writable pidfile for Type=forking, and umask must not decide.
 */
export function writePidfile(file: string, pid = process.pid): void {
  const tmp = `${file}.${pid}.tmp`;
  writeFileSync(tmp, `${pid}\n`, { mode: 0o644 });
  renameSync(tmp, file);
}

/** Removes the pidfile only if it still names `pid`: a successor's pidfile is not ours to delete. */
export function removePidfile(file: string, pid = process.pid): void {
  try {
    if (readPidfile(file) === pid) rmSync(file, { force: true });
  } catch {
    // Already gone or rewritten: nothing of ours to remove.
  }
}
