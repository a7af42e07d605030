import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { GETENT, ROOT_ENV } from './exec-chain.js';

const run = promisify(execFile);

export interface Account {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  /** Login shell from the passwd entry ('' when none). */
  readonly shell: string;
}

export interface Group {
  readonly name: string;
  readonly gid: number;
}

/**
 * How long one account lookup may take (ms). NSS may ask a network directory (LDAP, sssd); a hung one must not
 * hold up the start or stop of every vassal, so the lookup is killed and reported instead.
 */
export const LOOKUP_TIMEOUT_MS = 5000;


/**
 * Runs `getent DB KEY`; undefined when there is no such entry (exit status 2). Uses NSS, so LDAP/sssd users work.
 * Throws Error when the lookup fails or takes longer than LOOKUP_TIMEOUT_MS.
 */
async function getent(db: 'passwd' | 'group', key: string, timeoutMs = LOOKUP_TIMEOUT_MS): Promise<string[] | undefined> {
  try {
    // By absolute path, with the fixed root environment: a vassal's PATH must not choose what runs as root.
    const { stdout } = await run(GETENT, [db, key], { timeout: timeoutMs, killSignal: 'SIGKILL', env: { ...ROOT_ENV } });
    return stdout.trim().split(':');
  } catch (err) {
    const e = err as { code?: unknown; killed?: boolean; message?: string };
    if (e.code === 2) return undefined;
    if (e.killed) throw new Error(`looking up ${db === 'passwd' ? 'user' : 'group'} ${key} took longer than ${timeoutMs / 1000} s (is the directory service, e.g. LDAP, answering?)`);
    throw new Error(`looking up ${db === 'passwd' ? 'user' : 'group'} ${key} failed: ${e.message ?? String(err)}`);
  }
}

/**
 * How long a lookup that found its entry is reused (ms). Starting a hundred vassals of one user asks the same
 * question a hundred times, each a getent process; an account changed meanwhile is seen within this time
 * (supplementary groups are not cached here: setpriv --init-groups reads them at every start).
 */
export const LOOKUP_CACHE_MS = 30_000;

const cache = new Map<string, { at: number; entry: Promise<string[] | undefined> }>();

/** getent, with found entries (and lookups in flight) shared for LOOKUP_CACHE_MS. */
function cachedGetent(db: 'passwd' | 'group', key: string): Promise<string[] | undefined> {
  const k = `${db}\0${key}`;
  const hit = cache.get(k);
  if (hit && Date.now() - hit.at < LOOKUP_CACHE_MS) return hit.entry;
  const entry = getent(db, key);
  cache.set(k, { at: Date.now(), entry });
  // Only what was found is kept: a missing account or a failed lookup is asked again next time.
  entry.then(
    (fields) => {
      if (!fields && cache.get(k)?.entry === entry) cache.delete(k);
    },
    () => {
      if (cache.get(k)?.entry === entry) cache.delete(k);
    },
  );
  return entry;
}

/** A numeric id field of a getent line; throws Error when it is not one (getent answered something unexpected). */
function idField(fields: readonly string[], index: number, what: string): number {
  const raw = fields[index] ?? '';
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) throw new Error(`getent gave no ${what} (${JSON.stringify(fields.join(':').slice(0, 80))})`);
  return Number(raw);
}

/** A user by name or numeric uid. Throws Error("no such user ...") when unknown. */
export async function lookupUser(user: string): Promise<Account> {
  const fields = await cachedGetent('passwd', user);
  if (!fields) throw new Error(`no such user: ${user}`);
  return { name: fields[0] || user, uid: idField(fields, 2, `uid for ${user}`), gid: idField(fields, 3, `gid for ${user}`), home: fields[5] || '/', shell: fields[6] ?? '' };
}

/** A group by name or numeric gid. A number with no group entry is still usable as a gid. */
export async function lookupGroup(group: string): Promise<Group> {
  const fields = await cachedGetent('group', group);
  if (!fields) {
    if (/^\d+$/.test(group)) return { name: group, gid: Number(group) };
    throw new Error(`no such group: ${group}`);
  }
  return { name: fields[0] || group, gid: idField(fields, 2, `gid for ${group}`) };
}

/** Who a worker runs as, resolved to numbers. */
export interface Credentials {
  readonly uid: number;
  readonly gid: number;
  /** The user's name, home and shell when it has a passwd entry: exported as USER, LOGNAME, HOME and SHELL, as systemd's User= does. */
  readonly user?: { readonly name: string; readonly home: string; readonly shell: string };
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
      // A numeric uid needs no passwd entry; a lookup that failed (timed out) is an error for any uid.
      if (!/^\d+$/.test(uid) || (err as Error).message !== `no such user: ${uid}`) throw err;
    }
  }
  const userId = account?.uid ?? (uid !== undefined ? Number(uid) : myUid);
  const groupId = gid !== undefined ? (await lookupGroup(gid)).gid : (account?.gid ?? (uid !== undefined ? Number(uid) : (process.getgid?.() ?? 0)));
  if (myUid !== 0 && (userId !== myUid || groupId !== process.getgid?.())) {
    throw new Error(`running workers as uid ${userId} gid ${groupId} needs the emperor to run as root (it runs as uid ${myUid})`);
  }
  return { uid: userId, gid: groupId, user: account ? { name: account.name, home: account.home, shell: account.shell } : undefined, initGroups: account !== undefined };
}
