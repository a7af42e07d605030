/**
 * Turns the current process (started as root) into a user for good: supplementary groups, then gid, then uid, in
 * that order (each step but the last needs root), then checks that it took and that uid 0 cannot be taken back.
 * For short-lived helpers that must act with a tenant's rights (the socket bind helper, the tenant config reader):
 * they start as root from our own files, and drop before touching any path a tenant named. setuid(2) as root sets
 * the real, effective and saved uid, so there is no way back, and the capabilities go with it.
 */
export interface DropTo {
  readonly uid: number;
  readonly gid: number;
  /**
   * Whose groups initgroups(3) takes (a passwd name, or the uid itself); a uid without a passwd entry gets no
   * supplementary group. Undefined, or initGroups false: no supplementary group (as setpriv --clear-groups).
   */
  readonly user?: string | number;
  readonly initGroups: boolean;
}

// Node has process.initgroups on POSIX; @types/node 20 leaves it out.
const { initgroups } = process as NodeJS.Process & { initgroups?: (user: string | number, extraGroup: number) => void };

/**
 * Throws Error when a step fails or the process does not end up as exactly `to` (never returns half-dropped), and
 * refuses uid 0 and gid 0 outright: no helper ever acts for a tenant as root.
 */
export function dropPrivileges(to: DropTo): void {
  if (!Number.isSafeInteger(to.uid) || !Number.isSafeInteger(to.gid) || to.uid <= 0 || to.gid <= 0) {
    throw new Error(`refusing to "drop" to uid ${to.uid} gid ${to.gid}: that is root (or no id at all)`);
  }
  // An emperor that is not root can only be acting for itself: already there, and not allowed to change groups.
  if (process.geteuid?.() !== 0 && process.getuid?.() === to.uid && process.getgid?.() === to.gid && process.getegid?.() === to.gid) return;
  let withGroups = false;
  if (to.initGroups && to.user !== undefined) {
    if (!initgroups) throw new Error('this platform has no initgroups(3)');
    try {
      initgroups(to.user, to.gid);
      withGroups = true;
    } catch (err) {
      // A uid without a passwd entry (common in containers) has no supplementary groups to take on.
      if ((err as NodeJS.ErrnoException).code !== 'ERR_UNKNOWN_CREDENTIAL') throw err;
    }
  }
  if (!withGroups) process.setgroups?.([]);
  process.setgid?.(to.gid);
  process.setuid?.(to.uid);
  const now = { uid: process.getuid?.(), euid: process.geteuid?.(), gid: process.getgid?.(), egid: process.getegid?.() };
  if (now.uid !== to.uid || now.euid !== to.uid || now.gid !== to.gid || now.egid !== to.gid) {
    throw new Error(`dropping privileges to uid ${to.uid} gid ${to.gid} did not take (now uid ${now.uid}/${now.euid} gid ${now.gid}/${now.egid})`);
  }
  // Node's getgroups() adds the effective gid; anything else left over would be root's groups.
  const groups = process.getgroups?.() ?? [];
  if (!withGroups && groups.some((g) => g !== to.gid)) {
    throw new Error(`dropping privileges to uid ${to.uid} left supplementary groups ${groups.join(',')}`);
  }
  let regained = false;
  try {
    process.setuid?.(0);
    regained = true;
  } catch {
    // EPERM: as it must be.
  }
  if (regained) throw new Error(`dropping privileges to uid ${to.uid}: uid 0 could be taken back`);
}
