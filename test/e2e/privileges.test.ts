// Needs root (CI runs as root): drops workers to the test user (with a supplementary group) the global setup creates.
import { chmod, chown, mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EmperorProcess, NODE } from '../support/emperor.js';
import { ask, pidsAnswering, serveIni } from '../support/serving.js';
import { sandbox } from '../support/sandbox.js';
import { getent, isRoot, TEST_EXTRA_GROUP, TEST_USER, testAccount, testGroupId } from '../support/test-users.js';

const skipReason = isRoot ? '' : ' [SKIPPED: needs root to change users]';
if (skipReason) console.warn(`privileges tests${skipReason}`);

const USER = TEST_USER;
const EXTRA = TEST_EXTRA_GROUP;

let uid = -1;
let gid = -1;
let extraGid = -1;

beforeAll(() => {
  if (!isRoot) return;
  ({ uid, gid } = testAccount(USER));
  extraGid = testGroupId(EXTRA);
});

const dir = sandbox();
let emperor: EmperorProcess | undefined;

beforeEach(async () => {
  // Workers running as another user start in this directory.
  await chmod(dir.path, 0o755);
});

const file = (name: string): string => dir.file(name);

/** Whether `user` can connect to a unix socket (run as that user, with its groups). */
async function canConnect(socketPath: string, user: string): Promise<boolean> {
  const script = `require('net').connect(process.argv[1]).on('connect', () => process.exit(0)).on('error', () => process.exit(1))`;
  const result = await execa('setpriv', ['--reuid', user, '--regid', getent('passwd', user)![3]!, '--init-groups', NODE, '-e', script, socketPath], { reject: false });
  return result.exitCode === 0;
}

describe.skipIf(!isRoot)(`privileges${skipReason}`, () => {
  it('runs workers as uid/gid with the user\'s supplementary groups; chown-socket lets only that group connect', async () => {
    await writeFile(file('app.ini'), serveIni('app.sock', { uid: USER, 'chown-socket': `root:${EXTRA}`, 'chmod-socket': 660 }));
    emperor = new EmperorProcess(['--emperor', dir.path]);
    await pidsAnswering(file('app.sock'), 2);

    const answer = await ask(file('app.sock'));
    expect(answer.uid).toBe(uid);
    expect(answer.gid).toBe(gid);
    expect(answer.groups).toContain(extraGid);
    expect(answer.user).toBe(USER);

    const st = await stat(file('app.sock'));
    expect({ uid: st.uid, gid: st.gid, mode: st.mode & 0o777 }).toEqual({ uid: 0, gid: extraGid, mode: 0o660 });
    expect(await canConnect(file('app.sock'), USER)).toBe(true);
    expect(await canConnect(file('app.sock'), 'nobody')).toBe(false);
  });

  it('emperor-tyrant runs a vassal as its file\'s owner and refuses a root-owned file', async () => {
    await writeFile(file('root.ini'), serveIni('root.sock', { processes: 1 }));
    // The tenant binds its socket itself, so it goes in a directory the tenant may write.
    await mkdir(file('user'), { mode: 0o755 });
    await chown(file('user'), uid, gid);
    await writeFile(file('user.ini'), serveIni('user/user.sock', { processes: 1 }));
    await chown(file('user.ini'), uid, gid);
    emperor = new EmperorProcess(['--emperor', dir.path, '--emperor-tyrant']);

    const answer = await pidsAnswering(file('user/user.sock'), 1).then(() => ask(file('user/user.sock')));
    expect({ uid: answer.uid, gid: answer.gid }).toEqual({ uid, gid });
    const refused = await emperor.waitForLog((r) => r.event === 'config.diagnostic' && r.file === file('root.ini'));
    expect(refused.msg).toBe(
      `${file('root.ini')}: error: emperor-tyrant: the file is owned by root, and tyrant mode never runs a vassal as root; chown it to the user it should run as`,
    );
    expect(emperor.spawnedPids('root.ini')).toEqual([]);
  });

  it('emperor-tyrant refuses a file that asks for a uid other than its owner\'s, naming the line', async () => {
    await writeFile(file('sneaky.ini'), serveIni('sneaky.sock', { processes: 1, uid: 'root' }));
    await chown(file('sneaky.ini'), uid, gid);
    emperor = new EmperorProcess(['--emperor', dir.path, '--emperor-tyrant']);
    const refused = await emperor.waitForLog((r) => r.event === 'config.diagnostic' && r.severity === 'error');
    const line = (await import('node:fs')).readFileSync(file('sneaky.ini'), 'utf8').split('\n').findIndex((l) => l.startsWith('uid =')) + 1;
    expect(refused.msg).toBe(`${file('sneaky.ini')}:${line}: error: emperor-tyrant: uid = root, but the file is owned by uid ${uid}; a vassal runs as its file's owner`);
    expect(emperor.spawnedPids()).toEqual([]);
  });
});
