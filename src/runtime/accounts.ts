import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Account {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

export interface Group {
  readonly name: string;
  readonly gid: number;
}

/** Runs `getent DB KEY`; undefined when there is no such entry (exit status 2). Uses NSS, so LDAP/sssd users work. */
async function getent(db: 'passwd' | 'group', key: string): Promise<string[] | undefined> {
  try {
    const { stdout } = await run('getent', [db, key]);
    return stdout.trim().split(':');
  } catch (err) {
    if ((err as { code?: unknown }).code === 2) return undefined;
    throw err;
  }
}

/** A user by name or numeric uid. Throws Error("no such user ...") when unknown. */
export async function lookupUser(user: string): Promise<Account> {
  const fields = await getent('passwd', user);
  if (!fields) throw new Error(`no such user: ${user}`);
  return { name: fields[0] ?? user, uid: Number(fields[2]), gid: Number(fields[3]), home: fields[5] ?? '/' };
}

/** A group by name or numeric gid. A number with no group entry is still usable as a gid. */
export async function lookupGroup(group: string): Promise<Group> {
  const fields = await getent('group', group);
  if (!fields) {
    if (/^\d+$/.test(group)) return { name: group, gid: Number(group) };
    throw new Error(`no such group: ${group}`);
  }
  return { name: fields[0] ?? group, gid: Number(fields[2]) };
}

/** Who a worker runs as, resolved to numbers. */
export interface Credentials {
  readonly uid: number;
  readonly gid: number;
  /** The user's name and home when it has a passwd entry: exported as USER, LOGNAME and HOME, as systemd's User= does. */
  readonly user?: { readonly name: string; readonly home: string };
  /** initgroups(3) with the user's supplementary groups (false: a numeric uid without an entry gets none). */
  readonly initGroups: boolean;
}

/**
 * Resolves a vassal's `uid`/`gid` (names or numbers) to Credentials; undefined when neither is set. A uid alone runs
 * with its primary group. Throws Error for an unknown name, or when changing user needs root and we are not.
 */
export async function resolveCredentials(uid: string | undefined, gid: string | undefined): Promise<Credentials | undefined> {
  if (uid === undefined && gid === undefined) return undefined;
  const myUid = process.getuid?.() ?? 0;
  let account: Account | undefined;
  if (uid !== undefined) {
    try {
      account = await lookupUser(uid);
    } catch (err) {
      if (!/^\d+$/.test(uid)) throw err;
    }
  }
  const userId = account?.uid ?? (uid !== undefined ? Number(uid) : myUid);
  const groupId = gid !== undefined ? (await lookupGroup(gid)).gid : (account?.gid ?? (uid !== undefined ? Number(uid) : (process.getgid?.() ?? 0)));
  if (myUid !== 0 && (userId !== myUid || groupId !== process.getgid?.())) {
    throw new Error(`running workers as uid ${userId} gid ${groupId} needs the emperor to run as root (it runs as uid ${myUid})`);
  }
  return { uid: userId, gid: groupId, user: account ? { name: account.name, home: account.home } : undefined, initGroups: account !== undefined };
}
