import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Account {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
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
  return { name: fields[0] ?? user, uid: Number(fields[2]), gid: Number(fields[3]) };
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
