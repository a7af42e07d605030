// The emperor's uid/gid (the guides' `uid = nginx` in emperor.ini) are the default account of vassals that name none:
// the emperor itself keeps root, and no worker runs as root unless its vassal file asks for it. In tyrant mode the
// file's owner decides, whatever the emperor says. Real accounts (test-users.ts), real workers, the real CLI.
import { chmod, chown, mkdir, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { execa } from 'execa';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { CLI, EmperorProcess, NODE } from '../support/emperor.js';
import { sandbox } from '../support/sandbox.js';
import { ask, serveIni, type Answer } from '../support/serving.js';
import { isRoot, OTHER_USER, TEST_EXTRA_GROUP, TEST_USER, testAccount, testGroupId, type TestAccount } from '../support/test-users.js';

const skipReason = isRoot ? '' : ' [SKIPPED: needs root to run workers as other users]';
if (skipReason) console.warn(`emperor account tests${skipReason}`);

const dir = sandbox('sv-acct');
let worker: TestAccount;
let other: TestAccount;
let extraGid = -1;

beforeAll(() => {
  if (!isRoot) return;
  worker = testAccount(TEST_USER);
  other = testAccount(OTHER_USER);
  extraGid = testGroupId(TEST_EXTRA_GROUP);
});

beforeEach(async () => {
  if (!isRoot) return;
  await chmod(dir.path, 0o755);
  await mkdir(dir.file('vassals'), { mode: 0o755 });
  await writeFile(dir.file('emperor.ini'), ['[uwsgi]', 'emperor = vassals', `uid = ${TEST_USER}`, `gid = ${TEST_USER}`, ''].join('\n'));
});

const answer = (name: string): Promise<Answer> => vi.waitFor(() => ask(dir.file(`vassals/${name}.sock`)), { timeout: 30_000, interval: 50 });

/** The real and effective ids of a live process, from /proc. */
function ids(pid: number): { uid: number[]; gid: number[] } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number[] => (new RegExp(`^${name}:\\s+(.*)$`, 'm').exec(status)?.[1] ?? '').split(/\s+/).map(Number);
  return { uid: field('Uid'), gid: field('Gid') };
}

describe.skipIf(Boolean(skipReason))(`uid/gid on the emperor${skipReason}`, () => {
  it('are the account of a vassal that names none; a vassal naming its own keeps it, whole; the emperor keeps root', async () => {
    await writeFile(dir.file('vassals/plain.ini'), serveIni('plain.sock'));
    await writeFile(dir.file('vassals/own.ini'), serveIni('own.sock', { uid: OTHER_USER }));
    await writeFile(dir.file('vassals/group.ini'), serveIni('group.sock', { gid: TEST_EXTRA_GROUP }));
    const emperor = new EmperorProcess([dir.file('emperor.ini')]);

    // The emperor's account, with its supplementary groups, as if the vassal had said uid = svtest-worker.
    const plain = await answer('plain');
    expect(plain).toMatchObject({ uid: worker.uid, gid: worker.gid, user: TEST_USER });
    expect(plain.groups).toContain(extraGid);
    // A uid of its own: that user's account, not the emperor's gid with it.
    expect(await answer('own')).toMatchObject({ uid: other.uid, gid: other.gid, user: OTHER_USER });
    // A gid of its own: that group, with the emperor's uid (it did not ask for root).
    expect(await answer('group')).toMatchObject({ uid: worker.uid, gid: extraGid });

    const emperorIds = ids(emperor.pid);
    expect(emperorIds.uid.every((id) => id === 0)).toBe(true);
    expect(emperorIds.gid.every((id) => id === 0)).toBe(true);
  });

  it('--check of the emperor file says the emperor keeps root', async () => {
    const check = await execa(NODE, [CLI, '--check', dir.file('emperor.ini')], { reject: false });
    expect(check.exitCode).toBe(0);
    expect(check.stdout).toContain(`${dir.file('emperor.ini')}:3: note: uid/gid on the emperor are the account of every vassal that names none`);
    expect(check.stdout).toContain('the emperor itself keeps root');
  });

  it('a uid or gid with no account is the emperor\'s own config error: it does not start, and says which', async () => {
    await writeFile(dir.file('vassals/plain.ini'), serveIni('plain.sock'));
    for (const [line, said] of [
      ['uid = svtest-no-such-user', 'no such user: svtest-no-such-user'],
      ['gid = svtest-no-such-group', 'no such group: svtest-no-such-group'],
    ]) {
      await writeFile(dir.file('bad.ini'), ['[uwsgi]', 'emperor = vassals', line, ''].join('\n'));
      const run = await execa(NODE, [CLI, dir.file('bad.ini')], { reject: false, timeout: 60_000 });
      expect(run.exitCode, run.stderr).not.toBe(0);
      expect(run.stderr).toContain(`uid/gid of the emperor (the vassals' default account): ${said}`);
    }
    // Nothing was started.
    expect(existsSync(dir.file('vassals/plain.sock'))).toBe(false);
  });

  it('are ignored in tyrant mode: a vassal runs as its file\'s owner', async () => {
    await writeFile(dir.file('emperor.ini'), `${readFileSync(dir.file('emperor.ini'), 'utf8')}emperor-tyrant = true\n`);
    // The tenant's socket goes in a directory the tenant may write.
    await mkdir(dir.file('tenant'), { mode: 0o755 });
    await chown(dir.file('tenant'), other.uid, other.gid);
    const file = dir.file('vassals/tenant.ini');
    await writeFile(file, serveIni(dir.file('tenant/t.sock')));
    await chown(file, other.uid, other.gid);
    new EmperorProcess([dir.file('emperor.ini')]);
    const tenant = await vi.waitFor(() => ask(dir.file('tenant/t.sock')), { timeout: 30_000, interval: 50 });
    expect(tenant).toMatchObject({ uid: other.uid, gid: other.gid });
  });
});
