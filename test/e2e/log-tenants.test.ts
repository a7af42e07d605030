// A tenant's log file is never opened by root: in tyrant mode (and for logto2) the file is opened, created, rotated
// and pruned by a helper that has dropped to the tenant (or the workers' uid), so `logto` cannot make root create or
// append to a file the tenant could not. Needs root (CI runs as root) and the test users.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, statSync } from 'node:fs';
import { chmod, chown, mkdir, symlink, writeFile } from 'node:fs/promises';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { EmperorProcess, fixtureCommand, vassalIni } from '../support/emperor.js';
import { sandbox } from '../support/sandbox.js';
import { isRoot, TEST_USER, testAccount, type TestAccount } from '../support/test-users.js';

const skipReason = isRoot ? '' : ' [SKIPPED: needs root to run vassals as tenants]';
if (skipReason) console.warn(`tenant log tests${skipReason}`);

const dir = sandbox();
let alice: TestAccount;

beforeAll(() => {
  if (isRoot) alice = testAccount(TEST_USER);
});

beforeEach(async () => {
  if (!isRoot) return;
  await chmod(dir.path, 0o755);
  await mkdir(dir.file('vassals'), { mode: 0o755 });
  // Alice's own directory, and one only root may write (standing in for /etc/cron.d).
  await mkdir(dir.file('alice'), { mode: 0o755 });
  await chown(dir.file('alice'), alice.uid, alice.gid);
  await mkdir(dir.file('root-only'), { mode: 0o755 });
});

const chatter = (extra: Record<string, string | number | boolean>): string =>
  vassalIni({ command: fixtureCommand('chatter'), 'ready-after': 0, env: ['CHATTER_COUNT=4', 'CHATTER_INTERVAL_MS=10'], ...extra });

async function tenantVassal(name: string, ini: string): Promise<void> {
  await writeFile(dir.file(`vassals/${name}`), ini);
  await chown(dir.file(`vassals/${name}`), alice.uid, alice.gid);
}

describe.skipIf(!isRoot)(`a tenant's log file${skipReason}`, () => {
  it('is opened with the tenant\'s rights: logto in a root-only directory, or through a symlink to one, creates nothing and appends nothing', async () => {
    const target = dir.file('root-only/x');
    const existing = dir.file('root-only/existing');
    await writeFile(existing, 'root\'s own\n', { mode: 0o644 });
    // A link to a file root would create, and a link to a file root has.
    await symlink(dir.file('root-only/y'), dir.file('alice/link.log'));
    await symlink(existing, dir.file('alice/existing-link.log'));
    await chmod(dir.file('alice'), 0o755);
    await tenantVassal('direct.ini', chatter({ logto: target }));
    await tenantVassal('link.ini', chatter({ logto: dir.file('alice/link.log') }));
    await tenantVassal('existing.ini', chatter({ logto: dir.file('alice/existing-link.log'), 'log-maxsize': 10 }));
    await tenantVassal('own.ini', chatter({ logto: dir.file('alice/own.log') }));
    const emperor = new EmperorProcess(['--emperor', dir.file('vassals'), '--emperor-tyrant']);

    // Denied to the tenant; a dangling link is never created through (O_EXCL), and its target is not there.
    const codes = { 'direct.ini': 'EACCES', 'link.ini': 'ENOENT', 'existing.ini': 'EACCES' };
    for (const [vassal, code] of Object.entries(codes)) {
      const failed = await emperor.waitForLog((r) => r.event === 'log.open-failed' && r.vassal === vassal);
      expect(failed.code).toBe(code);
    }
    // Its own file works, and is the tenant's.
    await vi.waitFor(() => expect(readFileSync(dir.file('alice/own.log'), 'utf8').split('\n').filter(Boolean)).toHaveLength(4), { timeout: 20_000, interval: 50 });
    const own = statSync(dir.file('alice/own.log'));
    expect({ uid: own.uid, gid: own.gid, mode: own.mode & 0o7777 }).toEqual({ uid: alice.uid, gid: alice.gid, mode: 0o640 });
    // The workers whose log cannot be opened carry on; nothing appeared or changed where root alone may write.
    await vi.waitFor(() => expect(emperor.events('vassal.ready', 'link.ini')).toHaveLength(1), { timeout: 20_000 });
    expect(existsSync(target)).toBe(false);
    expect(existsSync(dir.file('root-only/y'))).toBe(false);
    expect(readFileSync(existing, 'utf8')).toBe('root\'s own\n');
    expect(lstatSync(dir.file('alice/existing-link.log')).isSymbolicLink()).toBe(true);
    // A reopen tries again, with the same rights and the same answer.
    process.kill(emperor.pid, 'SIGUSR2');
    await vi.waitFor(() => expect(emperor.events('log.open-failed', 'direct.ini')).toHaveLength(2), { timeout: 20_000 });
    expect(existsSync(target)).toBe(false);
  });

  it('is rotated and pruned with the tenant\'s rights', async () => {
    const file = dir.file('alice/app.log');
    await tenantVassal(
      'app.ini',
      vassalIni({ command: fixtureCommand('chatter'), 'ready-after': 0, env: ['CHATTER_COUNT=30', 'CHATTER_INTERVAL_MS=5', 'CHATTER_SIZE=100'], logto: file, 'log-maxsize': 500, 'log-backups': 1 }),
    );
    const emperor = new EmperorProcess(['--emperor', dir.file('vassals'), '--emperor-tyrant']);
    await vi.waitFor(() => expect(readFileSync(file, 'utf8')).toContain('stderr 30'), { timeout: 20_000, interval: 50 });
    const rotated = emperor.events('log.rotated', 'app.ini');
    expect(rotated.length).toBeGreaterThanOrEqual(4);
    for (const r of rotated) expect(statSync(r.renamedTo as string, { throwIfNoEntry: false })?.uid ?? alice.uid).toBe(alice.uid);
    expect(rotated.flatMap((r) => r.pruned as string[]).length).toBeGreaterThanOrEqual(3);
    expect(statSync(file).uid).toBe(alice.uid);
  });
});

describe.skipIf(!isRoot)(`logfile-chown${skipReason}`, () => {
  it('gives the file the emperor opened (default mode) to the vassal\'s uid and gid; without it, it stays root\'s', async () => {
    await writeFile(dir.file('vassals/chown.ini'), chatter({ uid: TEST_USER, logto: dir.file('root-only/chown.log'), 'logfile-chown': true }));
    await writeFile(dir.file('vassals/plain.ini'), chatter({ uid: TEST_USER, logto: dir.file('root-only/plain.log') }));
    new EmperorProcess(['--emperor', dir.file('vassals')]);
    await vi.waitFor(() => expect(readFileSync(dir.file('root-only/chown.log'), 'utf8').split('\n').filter(Boolean)).toHaveLength(4), { timeout: 20_000, interval: 50 });
    await vi.waitFor(() => expect(readFileSync(dir.file('root-only/plain.log'), 'utf8').split('\n').filter(Boolean)).toHaveLength(4), { timeout: 20_000, interval: 50 });
    const chowned = statSync(dir.file('root-only/chown.log'));
    expect({ uid: chowned.uid, gid: chowned.gid, mode: chowned.mode & 0o7777 }).toEqual({ uid: alice.uid, gid: alice.gid, mode: 0o640 });
    expect(statSync(dir.file('root-only/plain.log')).uid).toBe(0);
  });
});

describe.skipIf(!isRoot)(`logfile-chown on the emperor${skipReason}`, () => {
  it("gives the emperor's logto file to the emperor's uid and its group, as uWSGI does; the emperor keeps root", async () => {
    await writeFile(dir.file('vassals/app.ini'), chatter({}));
    const file = dir.file('root-only/emperor.log');
    const emperor = new EmperorProcess(['--emperor', dir.file('vassals'), '--logto', file, '--logfile-chown', '--uid', TEST_USER]);
    await vi.waitFor(() => expect(readFileSync(file, 'utf8')).toContain('"event":"worker.output"'), { timeout: 20_000, interval: 50 });
    const st = statSync(file);
    expect({ uid: st.uid, gid: st.gid, mode: st.mode & 0o7777 }).toEqual({ uid: alice.uid, gid: alice.gid, mode: 0o640 });
    expect(readFileSync(`/proc/${emperor.pid}/status`, 'utf8')).toMatch(/^Uid:\s+0\s/m);
  });

  it('gives away nothing a link leads to: the account swaps its log for a symlink to a root-only file, and a reopen leaves that file root\'s', async () => {
    await writeFile(dir.file('vassals/app.ini'), chatter({}));
    // The log's directory is the account's (as /var/log/uwsgi owned by www-data is).
    const file = dir.file('alice/emperor.log');
    await writeFile(dir.file('root-only/shadow'), 'root only\n', { mode: 0o600 });
    const emperor = new EmperorProcess(['--emperor', dir.file('vassals'), '--logto', file, '--logfile-chown', '--uid', TEST_USER]);
    await vi.waitFor(() => expect(readFileSync(file, 'utf8')).toContain('"event":"worker.output"'), { timeout: 20_000, interval: 50 });
    execFileSync('/usr/bin/setpriv', ['--reuid', String(alice.uid), '--regid', String(alice.gid), '--clear-groups', '/bin/sh', '-c', `rm -f ${file} && ln -s ${dir.file('root-only/shadow')} ${file}`]);
    expect(lstatSync(file).isSymbolicLink()).toBe(true);
    process.kill(emperor.pid, 'SIGUSR2');
    await vi.waitFor(() => expect(emperor.stderr.join('')).toContain(`log file ${file} is a symbolic link`), { timeout: 20_000, interval: 50 });
    const st = statSync(dir.file('root-only/shadow'));
    expect({ uid: st.uid, gid: st.gid, mode: st.mode & 0o7777 }).toEqual({ uid: 0, gid: 0, mode: 0o600 });
    expect(readFileSync(dir.file('root-only/shadow'), 'utf8')).toBe('root only\n');
  });

  it('refuses to start when that account does not exist, saying so, and writes no log file', async () => {
    const file = dir.file('root-only/emperor.log');
    const emperor = new EmperorProcess(['--emperor', dir.file('vassals'), '--logto', file, '--logfile-chown', '--uid', 'no-such-user-sv']);
    expect((await emperor.exit()).code).toBe(1);
    expect(emperor.stderr.join('')).toContain("logfile-chown of the emperor's log: no such user: no-such-user-sv");
    expect(existsSync(file)).toBe(false);
  });
});

describe.skipIf(!isRoot)(`logto2${skipReason}`, () => {
  it('opens the file with the workers\' uid (after the privilege drop, as uWSGI does): their file, where they may write', async () => {
    await writeFile(dir.file('vassals/app.ini'), chatter({ uid: TEST_USER, logto2: dir.file('alice/app.log') }));
    await writeFile(dir.file('vassals/denied.ini'), chatter({ uid: TEST_USER, logto2: dir.file('root-only/app.log') }));
    const emperor = new EmperorProcess(['--emperor', dir.file('vassals')]);
    await vi.waitFor(() => expect(readFileSync(dir.file('alice/app.log'), 'utf8').split('\n').filter(Boolean)).toHaveLength(4), { timeout: 20_000, interval: 50 });
    expect(statSync(dir.file('alice/app.log')).uid).toBe(alice.uid);
    const failed = await emperor.waitForLog((r) => r.event === 'log.open-failed' && r.vassal === 'denied.ini');
    expect(failed.code).toBe('EACCES');
    expect(existsSync(dir.file('root-only/app.log'))).toBe(false);
  });
});
