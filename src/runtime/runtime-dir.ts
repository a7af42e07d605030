import { chmodSync, closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmdirSync, unlinkSync, type Stats } from 'node:fs';
import path from 'node:path';
import { writeExclusive } from './exclusive-file.js';
import { formatRunRecord, newRunId, ownRunRecord, parseRunRecord, RUN_ID, type RunRecord } from './run-record.js';
import { ownUid, RuntimeDirError } from './runtime-place.js';
import { openRuntimeRoot, restoreSecret } from './runtime-root.js';

/**
 * The runtime directory: the emperor's own files that live as long as it runs. Its root (runtime-root.ts) holds the
 * lock secret (`secret`, 0600) and one directory per run (`<run id>/`, 0711) with that run's record (`run`, 0600) and
 * its workers' notify sockets. Everything here is created without following links and checked with lstat; what
 * another user made is never removed.
 */

let current: { readonly id: string; readonly dir: string; readonly record: RunRecord } | undefined;
let exitHook = false;

/**
 * Starts this process's run: creates its directory `<root>/<id>` (0711: a worker of another user may reach its
 * notify socket by name, nobody may list or write) holding its record. Made under a temp name and renamed into
 * place, so a run directory always has its record. Returns the directory.
 */
export function beginRun(id: string, record: RunRecord): string {
  if (!RUN_ID.test(id)) throw new Error(`not a run id: ${id}`);
  const dir = createRunDir(openRuntimeRoot(), id, record);
  current = { id, dir, record };
  if (!exitHook) process.once('exit', removeQuietly);
  exitHook = true;
  return dir;
}

function createRunDir(root: string, id: string, record: RunRecord): string {
  const tmp = path.join(root, `.new-${id}`);
  const dir = path.join(root, id);
  mkdirSync(tmp, 0o700);
  try {
    writeExclusive(path.join(tmp, 'run'), formatRunRecord(record), 0o600);
    chmodSync(tmp, 0o711);
    renameSync(tmp, dir);
  } catch (err) {
    removeTree(tmp);
    throw err;
  }
  return dir;
}

/**
 * The current run's directory, for workers' notify sockets (short paths: unix socket paths are limited to 107
 * bytes). Checked at every call and made again when missing (a cleaner of /run removed it, or systemd removed its
 * RuntimeDirectory): the root, the secret this process holds, and the run directory with its record. Without a run
 * (a single vassal in the foreground), one without lock keys is begun. Throws RuntimeDirError when the root is not
 * safe (any more).
 */
export function runtimeDir(): string {
  if (!current) return beginRun(newRunId(), ownRunRecord([]));
  let st: Stats | undefined;
  try {
    st = lstatSync(current.dir);
  } catch {
    st = undefined;
  }
  if (st && st.isDirectory() && st.uid === ownUid()) return current.dir;
  if (st) throw new RuntimeDirError(`${current.dir} is no longer this emperor's run directory`);
  const root = openRuntimeRoot();
  restoreSecret(root);
  createRunDir(root, current.id, current.record);
  return current.dir;
}

/** Removes the current run's directory (at emperor stop, and at exit). */
export function removeRuntimeDir(): void {
  if (current) removeTree(current.dir);
  current = undefined;
}

function removeQuietly(): void {
  try {
    removeRuntimeDir();
  } catch {
    // At exit there is nobody left to tell.
  }
}

/** A run directory found in the runtime root. */
export interface RunEntry {
  readonly id: string;
  readonly dir: string;
  /** Its record; undefined when missing or damaged. */
  readonly record: RunRecord | undefined;
}

// Temp entries (a run directory being made, a secret being written) younger than this may belong to an emperor that
// is starting right now.
const TEMP_GRACE_MS = 60_000;

/**
 * Every run directory in the runtime root but this process's own: only real directories owned by us with a run id
 * for a name (anything else, a symlink or what another user made, is not ours and is left alone). Removes temp
 * entries left by a start that died half-way (older than a minute).
 */
export function listRuns(): RunEntry[] {
  const root = openRuntimeRoot();
  const runs: RunEntry[] = [];
  for (const name of readdirSync(root)) {
    const dir = path.join(root, name);
    let st: Stats;
    try {
      st = lstatSync(dir);
    } catch {
      continue;
    }
    if (st.uid !== ownUid()) continue;
    if (/^\.(new|secret)-[0-9a-f]+$/.test(name)) {
      if (Date.now() - st.mtimeMs > TEMP_GRACE_MS) removeTree(dir);
      continue;
    }
    if (!RUN_ID.test(name) || !st.isDirectory() || name === current?.id) continue;
    runs.push({ id: name, dir, record: readRecord(path.join(dir, 'run')) });
  }
  return runs;
}

function readRecord(file: string): RunRecord | undefined {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.uid !== ownUid() || st.size > 65536) return undefined;
    const buf = Buffer.alloc(st.size);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return parseRunRecord(buf.subarray(0, n).toString('utf8'));
  } finally {
    closeSync(fd);
  }
}

/** Removes an earlier run's directory (orphan sweep). */
export function removeRunDir(run: RunEntry): void {
  removeTree(run.dir);
}

/**
 * Removes `p` without following links: a symlink or file is unlinked (the link, never its target); a directory is
 * emptied and removed only if it is ours (lstat), else left with what is in it. Errors leave the entry in place.
 */
function removeTree(p: string): void {
  let st: Stats;
  try {
    st = lstatSync(p);
  } catch {
    return;
  }
  try {
    if (!st.isDirectory()) {
      unlinkSync(p);
      return;
    }
    if (st.uid !== ownUid()) return;
    for (const name of readdirSync(p)) removeTree(path.join(p, name));
    rmdirSync(p);
  } catch {
    // Busy or not ours to remove: left in place; a later start tries again.
  }
}
