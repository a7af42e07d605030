import { closeSync, constants, fchmodSync, fchownSync, fstatSync, openSync, readdirSync, renameSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { backupName, backupsToPrune } from './rotation.js';

/**
 * Opening and rotating a log file, by path, with the rights of the calling process: the emperor itself for its own
 * file and for an administrator's (default mode), or the log-file helper after it has dropped to a tenant or to a
 * vassal's uid (log-file-helper.ts). Synchronous: these are a few system calls on a local file.
 */

/** What opening needs to know about a file. Plain JSON: it travels to the helper on its command line. */
export interface LogFileJob {
  readonly path: string;
  /** logfile-chmod; undefined: 0640 for a file created now, an existing file keeps its mode. */
  readonly mode?: number;
  /** logfile-chown, resolved: set through the descriptor at every open. */
  readonly owner?: { readonly uid: number; readonly gid: number };
  /** A character device (/dev/null) is accepted only for an administrator's file, never a tenant's. */
  readonly allowDevices: boolean;
  readonly backupName?: string;
  readonly backups: number;
}

/** Mode of a log file created without logfile-chmod. */
export const LOG_FILE_MODE = 0o640;

export class LogFileError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'LogFileError';
  }
}

/**
 * Opens (creating it if needed, mode 0640 or logfile-chmod) the log file for appending, and returns the descriptor
 * (read-write, O_APPEND: every write lands at the end, whoever else appends, and copytruncate works). FIFOs and
 * sockets are refused (a write could wait for ever), and devices unless `allowDevices`. With logfile-chmod or
 * logfile-chown, an existing file must be the name itself: a symbolic link (ELOOP) or a file with other hard links
 * (EMLINK) is refused. Throws LogFileError.
 */
export function openLogFile(job: LogFileJob): number {
  const flags = constants.O_RDWR | constants.O_APPEND | constants.O_NONBLOCK;
  // Whoever may write the log's directory could put a link to /etc/shadow in the log's place; a mode or an owner
  // set through what the name leads to would then be root's gift of that file.
  const changesFile = job.mode !== undefined || job.owner !== undefined;
  let fd: number;
  let created = false;
  try {
    try {
      fd = openSync(job.path, flags | constants.O_CREAT | constants.O_EXCL, job.mode ?? LOG_FILE_MODE);
      created = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      fd = openSync(job.path, flags | (changesFile ? constants.O_NOFOLLOW : 0));
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ELOOP' && changesFile) {
      throw new LogFileError('ELOOP', `log file ${job.path} is a symbolic link: logfile-chmod and logfile-chown change only a file itself, never what a link leads to`);
    }
    throw new LogFileError(e.code ?? 'EIO', `cannot open log file ${job.path}: ${e.message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() && !(job.allowDevices && st.isCharacterDevice())) {
      throw new LogFileError('EINVAL', `log file ${job.path} is not a regular file${job.allowDevices ? ' or a character device' : ''}`);
    }
    if (changesFile && st.isFile() && st.nlink > 1) {
      throw new LogFileError('EMLINK', `log file ${job.path} has ${st.nlink} hard links: logfile-chmod and logfile-chown change only a file with one name`);
    }
    if (st.isFile()) {
      // The umask must not decide: a created file gets exactly its mode, and logfile-chmod applies at every open.
      if (created || job.mode !== undefined) fchmodSync(fd, job.mode ?? LOG_FILE_MODE);
      if (job.owner) fchownSync(fd, job.owner.uid, job.owner.gid);
    }
    // O_NONBLOCK only kept the open from waiting on a FIFO. A log-direct worker gets this file as its stdout, and
    // a program whose write to a device says EAGAIN may fail: the same file, opened again without it.
    const plain = openSync(`/proc/self/fd/${fd}`, constants.O_RDWR | constants.O_APPEND);
    closeSync(fd);
    return plain;
  } catch (err) {
    closeSync(fd);
    if (err instanceof LogFileError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new LogFileError(e.code ?? 'EIO', `log file ${job.path}: ${e.message}`);
  }
}

/** The names in `dir`; none when it cannot be read (the open that follows says what is wrong). */
function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** What a rotation did, for the log. */
export interface Rotation {
  readonly fd: number;
  /** Where the previous file went (undefined when there was none to rename). */
  readonly renamedTo?: string;
  readonly pruned: readonly string[];
}

/**
 * Rotates the log file as uWSGI does: renames it to its backup name (FILE.<unix time>, or log-backupname), deletes
 * the oldest FILE.<unix time> files beyond `backups`, and opens a new FILE. Throws LogFileError when the new file
 * cannot be opened (the rename has happened then).
 */
export function rotateLogFile(job: LogFileJob, nowMs = Date.now()): Rotation {
  const target = backupName(job.path, nowMs, job.backupName, listDir(path.dirname(job.path)));
  let renamedTo: string | undefined;
  try {
    renameSync(job.path, target);
    renamedTo = target;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // Gone already (renamed by someone else): there is nothing to keep, only a new file to open.
    if (e.code !== 'ENOENT') throw new LogFileError(e.code ?? 'EIO', `cannot rotate log file ${job.path} to ${target}: ${e.message}`);
  }
  const pruned: string[] = [];
  if (job.backupName === undefined) {
    for (const old of backupsToPrune(job.path, listDir(path.dirname(job.path)), job.backups)) {
      try {
        unlinkSync(old);
        pruned.push(old);
      } catch {
        // Already gone, or not ours to remove: kept.
      }
    }
  }
  return { fd: openLogFile(job), renamedTo, pruned };
}
