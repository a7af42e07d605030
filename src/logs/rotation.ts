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
 * The name the current file is renamed to at a rotation at `nowMs`: log-backupname if given, else FILE.<unix time>
 * (with .1, .2 ... when `taken` says that name exists).
 */
export function backupName(file: string, nowMs: number, backupname: string | undefined, taken: (name: string) => boolean): string {
  if (backupname !== undefined) return backupname;
  const base = `${file}.${Math.floor(nowMs / 1000)}`;
  if (!taken(base)) return base;
  for (let n = 1; ; n++) if (!taken(`${base}.${n}`)) return `${base}.${n}`;
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
