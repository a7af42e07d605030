import { statSync } from 'node:fs';
import path from 'node:path';
import type { Credentials } from './accounts.js';

/**
 * The programs the emperor runs as root on the way to a worker (or a helper), by absolute path: nothing here is
 * ever looked up through a PATH, and none of it sees a variable a vassal file set. util-linux's setpriv changes
 * uid/gid/groups and sets the parent-death signal; /bin/sh (after the change) applies the vassal's environment.
 */
export const SETPRIV = '/usr/bin/setpriv';
export const SH = '/bin/sh';
/** NSS lookups (users, groups), which may reach LDAP/sssd. */
export const GETENT = '/usr/bin/getent';

/**
 * The whole environment of a program the chain runs as root. Fixed, so that no variable a vassal sets (PATH,
 * LD_PRELOAD, GLIBC_TUNABLES, LOCPATH, ...) reaches the dynamic linker or libc of a root process. No locale: C.
 */
export const ROOT_ENV: Readonly<Record<string, string>> = Object.freeze({ PATH: '/usr/sbin:/usr/bin:/sbin:/bin' });

/** setpriv's arguments up to and including `--`: credentials (if any), capabilities, then the parent-death signal. */
export function setprivArgs(credentials: Credentials | undefined, options: { pdeathsig?: boolean; ambientCaps?: readonly string[] } = {}): string[] {
  const args: string[] = [];
  if (credentials) {
    args.push('--reuid', String(credentials.uid), '--regid', String(credentials.gid), credentials.initGroups ? '--init-groups' : '--clear-groups');
  }
  const caps = options.ambientCaps ?? [];
  if (caps.length > 0) {
    // Ambient capabilities must also be inheritable; they survive the uid change and the exec (capabilities(7)).
    const list = caps.map((c) => `+${c}`).join(',');
    args.push('--inh-caps', list, '--ambient-caps', list);
  }
  // setpriv sets the parent-death signal after changing credentials (a uid change would clear it).
  if (options.pdeathsig ?? true) args.push('--pdeathsig', 'KILL');
  args.push('--');
  return args;
}

/**
 * Why a program the chain runs as root cannot be trusted, or undefined when it can: it and every directory above
 * it must belong to root and be writable by nobody else (else whoever may write there could replace it); a
 * directory others may write passes only if it is sticky (they cannot rename root's entries away).
 */
export function untrustedProgram(program: string): string | undefined {
  for (let p = program; ; p = path.dirname(p)) {
    let st;
    try {
      st = statSync(p);
    } catch (err) {
      return `${p}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (err as Error).message}`;
    }
    if (st.uid !== 0) return `${p} is owned by uid ${st.uid}, not root`;
    // A sticky directory (like /tmp) lets others add names, but not replace root's.
    const sticky = st.isDirectory() && (st.mode & 0o1000) !== 0;
    if ((st.mode & 0o022) !== 0 && !sticky) return `${p} is writable by users other than root (mode ${(st.mode & 0o7777).toString(8)})`;
    if (p === path.dirname(p)) return undefined;
  }
}

/**
 * Throws Error naming the first program of the exec chain (setpriv, sh, getent) that root must not run, when this
 * process is root; does nothing otherwise (a non-root emperor runs them with its own rights only).
 */
export function assertTrustedChain(programs: readonly string[] = [SETPRIV, SH, GETENT]): void {
  if (process.geteuid?.() !== 0) return;
  for (const program of programs) {
    const why = untrustedProgram(program);
    if (why) throw new Error(`refusing to run ${program} as root: ${why}`);
  }
}
