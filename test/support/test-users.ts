// Accounts for tests that drop privileges (CI runs as root). Created once per run by the global setup and kept:
// other test runs on the machine (a second checkout) may be using them, so deleting them would break those.
import { execFileSync } from 'node:child_process';

/** A tenant with a supplementary group, for uid/gid and tyrant tests. */
export const TEST_USER = 'svtest-worker';
/** The supplementary group of TEST_USER. */
export const TEST_EXTRA_GROUP = 'svtest-extra';
/** A second tenant, for tests where one tenant attacks another. */
export const OTHER_USER = 'svtest-other';

export const isRoot = process.getuid?.() === 0;

export function getent(db: 'passwd' | 'group', key: string): string[] | undefined {
  try {
    return execFileSync('getent', [db, key], { encoding: 'utf8' }).trim().split(':');
  } catch {
    return undefined;
  }
}

export interface TestAccount {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/** A test account's ids; throws when the global setup has not created it (not root). */
export function testAccount(name: string): TestAccount {
  const pw = getent('passwd', name);
  if (!pw) throw new Error(`test account ${name} does not exist (the global setup creates it when the tests run as root)`);
  return { name, uid: Number(pw[2]), gid: Number(pw[3]) };
}

/** The gid of a test group. */
export function testGroupId(name: string): number {
  const gr = getent('group', name);
  if (!gr) throw new Error(`test group ${name} does not exist`);
  return Number(gr[2]);
}

/** Runs a command, tolerating "already exists" from a concurrent run that created the same account. */
function create(command: string, args: string[], exists: () => boolean): void {
  if (exists()) return;
  try {
    execFileSync(command, args, { stdio: 'pipe' });
  } catch (err) {
    if (!exists()) throw err;
  }
}

/** Creates the test accounts if missing (root only; a no-op otherwise). */
export function ensureTestUsers(): void {
  if (!isRoot) return;
  create('groupadd', ['--system', TEST_EXTRA_GROUP], () => getent('group', TEST_EXTRA_GROUP) !== undefined);
  const system = ['--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', '--user-group'];
  create('useradd', [...system, '--groups', TEST_EXTRA_GROUP, TEST_USER], () => getent('passwd', TEST_USER) !== undefined);
  create('useradd', [...system, OTHER_USER], () => getent('passwd', OTHER_USER) !== undefined);
}
