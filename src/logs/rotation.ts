import path from 'node:path';

/**
 * Names of rotated log files, as uWSGI names them (core/logging.c, uwsgi_log_do_rotate): `FILE.<unix time>`, or
 * log-backupname. Two rotations within one second would give one name: the second gets `FILE.<unix time>.1`, and so
 * on, so no rotated file is overwritten. Pure.
 */

/** A rotated file of ours: FILE.<unix time, 10 digits or more>[.<n>]. logrotate's FILE.1, FILE.2.gz never match. */
function backupPattern(file: string): RegExp {
  const base = path.basename(file).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${base}\\.(\\d{10,})(?:\\.(\\d+))?$`);
}

/**
 * The name the current file is renamed to at a rotation at `nowMs`: log-backupname if given, else FILE.<unix time>,
 * or, when `names` (FILE's directory) has rotated files of that second already, FILE.<unix time>.<n> with n past
 * theirs (so the newest always sorts last, even after the first of them was pruned).
 */
export function backupName(file: string, nowMs: number, backupname: string | undefined, names: readonly string[]): string {
  if (backupname !== undefined) return backupname;
  const second = Math.floor(nowMs / 1000);
  const pattern = backupPattern(file);
  let last = -1;
  for (const name of names) {
    const m = pattern.exec(name);
    if (m && Number(m[1]) === second) last = Math.max(last, Number(m[2] ?? 0));
  }
  return last < 0 ? `${file}.${second}` : `${file}.${second}.${last + 1}`;
}

/**
 * Which of `names` (the entries of FILE's directory) are rotated files of FILE to delete so that `keep` remain: the
 * oldest first, by time then sequence. Only names of the FILE.<unix time>[.n] form are ever considered.
 */
export function backupsToPrune(file: string, names: readonly string[], keep: number): string[] {
  const pattern = backupPattern(file);
  const backups = names
    .flatMap((name) => {
      const m = pattern.exec(name);
      return m ? [{ name, time: Number(m[1]), seq: Number(m[2] ?? 0) }] : [];
    })
    .sort((a, b) => a.time - b.time || a.seq - b.seq);
  return backups.slice(0, Math.max(0, backups.length - keep)).map((b) => path.join(path.dirname(file), b.name));
}
