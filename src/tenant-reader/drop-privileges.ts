import os from 'node:os';
import type { TenantAccount } from '../runtime/tenant-env.js';

/** The credential calls Node has on POSIX systems only. */
interface PosixProcess {
  initgroups(user: number, extraGroup: number): void;
  setgroups(groups: number[]): void;
  setgid(id: number): void;
  setuid(id: number): void;
  getuid(): number;
  geteuid(): number;
  getgid(): number;
  getegid(): number;
}

function posix(): PosixProcess {
  const p = process as unknown as Partial<PosixProcess>;
  if (typeof p.initgroups !== 'function' || typeof p.setuid !== 'function') throw new Error('changing users needs a POSIX system');
  return p as PosixProcess;
}

/**
 * Makes this process the tenant `uid`/`gid`, for good: supplementary groups first (the user's, by initgroups(3); none
 * for a uid without a passwd entry), then the gid, then the uid (after which nothing else could be changed), then
 * checks the result, including that uid 0 cannot be taken back. Returns the tenant's passwd entry (name, home,
 * shell), or undefined when the uid has none. Throws Error when any step fails: the caller must then read nothing.
 * Refuses uid 0 and gid 0 outright: a reader never runs as root.
 */
export function dropPrivileges(uid: number, gid: number): TenantAccount | undefined {
  if (!Number.isSafeInteger(uid) || !Number.isSafeInteger(gid) || uid <= 0 || gid <= 0) {
    throw new Error(`refusing to read as uid ${uid} gid ${gid}: a reader never runs as root`);
  }
  const proc = posix();
  try {
    proc.initgroups(uid, gid);
  } catch (err) {
    // A uid without a passwd entry (common in containers) has no supplementary groups to take on.
    if ((err as NodeJS.ErrnoException).code !== 'ERR_UNKNOWN_CREDENTIAL') throw err;
    proc.setgroups([]);
  }
  proc.setgid(gid);
  proc.setuid(uid);
  const now = { uid: proc.getuid(), euid: proc.geteuid(), gid: proc.getgid(), egid: proc.getegid() };
  if (now.uid !== uid || now.euid !== uid || now.gid !== gid || now.egid !== gid) {
    throw new Error(`privileges not dropped: running as ${JSON.stringify(now)}, wanted uid ${uid} gid ${gid}`);
  }
  let regained = false;
  try {
    proc.setuid(0);
    regained = true;
  } catch {
    // EPERM: as it must be.
  }
  if (regained) throw new Error('privileges not dropped: uid 0 could be taken back');
  try {
    const info = os.userInfo();
    return { name: info.username, home: info.homedir, shell: info.shell ?? '' };
  } catch {
    return undefined;
  }
}
