// Socket files: exact modes whatever the emperor's umask, several sockets per vassal, permissions changed in place,
// and links never followed: a symlink put in a socket's place (before the bind, or while a new generation changes
// its permissions) leaves the link's target as it was. Needs root for the attacker accounts (CI runs as root).
import fs from 'node:fs';
import { chmod, chown, mkdir, stat, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { execa, type ResultPromise } from 'execa';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { EmperorProcess, NODE, vassalIni, fixtureCommand } from '../support/emperor.js';
import { freePort } from '../support/nginx.js';
import { sandbox } from '../support/sandbox.js';
import { ask, askTcp, pidsAnswering, serveIni } from '../support/serving.js';
import { isRoot, OTHER_USER, TEST_EXTRA_GROUP, TEST_USER, testAccount, testGroupId, type TestAccount } from '../support/test-users.js';

const skipReason = isRoot ? '' : ' [SKIPPED: needs root for the attacker accounts]';
if (skipReason) console.warn(`socket file tests${skipReason}`);

const dir = sandbox();
let tenant: TestAccount;
let attacker: TestAccount;
let extraGid = -1;
const attackers: ResultPromise[] = [];

beforeAll(() => {
  if (!isRoot) return;
  tenant = testAccount(TEST_USER);
  attacker = testAccount(OTHER_USER);
  extraGid = testGroupId(TEST_EXTRA_GROUP);
});

beforeEach(async () => {
  await chmod(dir.path, 0o755);
  await mkdir(dir.file('vassals'), { mode: 0o755 });
});

afterEach(async () => {
  for (const a of attackers.splice(0)) {
    a.kill('SIGKILL');
    await a.catch(() => undefined);
  }
});

const facts = async (file: string) => {
  const st = await fs.promises.lstat(file);
  return { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, ino: st.ino, type: st.isSocket() ? 'socket' : st.isSymbolicLink() ? 'symlink' : 'other' };
};

/** A directory owned by `owner`, where that user can put whatever it likes (a link in a socket's place). */
async function userDir(name: string, owner: TestAccount): Promise<string> {
  await mkdir(dir.file(name), { mode: 0o755 });
  await chown(dir.file(name), owner.uid, owner.gid);
  return dir.file(name);
}

/** What the attacker wants changed: a root-owned file only root may read. */
async function rootMarker(): Promise<{ file: string; before: Awaited<ReturnType<typeof facts>> }> {
  const file = dir.file('marker');
  await writeFile(file, 'root only\n', { mode: 0o600 });
  return { file, before: await facts(file) };
}

async function vassal(name: string, ini: string, owner?: TestAccount): Promise<string> {
  const file = dir.file(`vassals/${name}`);
  await writeFile(file, ini);
  if (owner) await chown(file, owner.uid, owner.gid);
  return file;
}

/**
 * The attacker, as `who`: watches the socket's directory (inotify) and, the moment the socket file gets mode
 * `mode` (the emperor's in-place chmod), renames a symlink to `target` over it, hoping that the owner change that
 * follows goes through the path. Resolves once it is watching; `swapped` resolves when it has made its move.
 */
async function swapOnChmod(who: TestAccount, socket: string, target: string, mode: number): Promise<{ swapped: Promise<void> }> {
  const script = `
    const fs = require('fs'), path = require('path');
    const [socket, target, mode] = process.argv.slice(1);
    const evil = path.join(path.dirname(socket), '.evil');
    fs.symlinkSync(target, evil);
    let done = false;
    const watcher = fs.watch(path.dirname(socket), () => {
      if (done) return;
      try {
        const st = fs.lstatSync(socket);
        if (st.isSocket() && (st.mode & 0o777) === Number(mode)) { fs.renameSync(evil, socket); done = true; console.log('swapped'); watcher.close(); }
      } catch {}
    });
    console.log('ready');`;
  const child = execa('setpriv', ['--reuid', String(who.uid), '--regid', String(who.gid), '--clear-groups', NODE, '-e', script, socket, target, String(mode)], {
    buffer: false,
    reject: false,
  });
  attackers.push(child);
  let out = '';
  child.stdout?.setEncoding('utf8');
  const seen = (word: string): Promise<void> =>
    vi.waitFor(() => {
      if (!out.includes(word)) throw new Error(`attacker has not said "${word}" yet: ${JSON.stringify(out)}`);
    }, { timeout: 20_000, interval: 10 });
  child.stdout?.on('data', (chunk: string) => (out += chunk));
  await seen('ready');
  return { swapped: seen('swapped') };
}

describe('socket modes', () => {
  it.each(['000', '077'])('chmod-socket is exact under an emperor umask of %s; without it, the umask decides', async (text) => {
    const umask = parseInt(text, 8);
    await vassal('m.ini', serveIni(dir.file('exact.sock'), { processes: 1, 'chmod-socket': 660 }));
    await vassal('u.ini', vassalIni({ command: fixtureCommand('serve-on-fd3'), socket: dir.file('umask.sock'), 'notification-fd': 'auto' }));
    const sh = ['/bin/sh', '-c', `umask ${text} && exec "$@"`, 'sh'];
    new EmperorProcess(['--emperor', dir.file('vassals')], { wrap: sh });
    await pidsAnswering(dir.file('exact.sock'), 1);
    await vi.waitFor(() => expect(fs.existsSync(dir.file('umask.sock'))).toBe(true), { timeout: 20_000 });
    expect((await facts(dir.file('exact.sock'))).mode).toBe(0o660);
    expect((await facts(dir.file('umask.sock'))).mode).toBe(0o777 & ~umask);
  });

  it('binds several sockets for one vassal, unix and TCP, each its own fd', async () => {
    const port = await freePort();
    await vassal('two.ini', serveIni(dir.file('two.sock'), { processes: 1, socket: [dir.file('two.sock'), `127.0.0.1:${port}`] }));
    const emperor = new EmperorProcess(['--emperor', dir.file('vassals')]);
    await pidsAnswering(dir.file('two.sock'), 1);
    expect((await ask(dir.file('two.sock'))).fd).toBe(3);
    expect((await askTcp(port)).fd).toBe(4);
    // LISTEN_FDNAMES separates names with ':', so the one in a TCP name is written '_'.
    expect((await ask(dir.file('two.sock'))).fdnames).toBe(`${dir.file('two.sock')}:127.0.0.1_${port}`);
    expect(emperor.events('vassal.start-failed')).toEqual([]);
  });

  it.skipIf(!isRoot)('a new generation changes chmod-socket and chown-socket in place, on the same inode', async () => {
    const socket = dir.file('kept.sock');
    const file = await vassal('k.ini', serveIni(socket, { processes: 1, 'chmod-socket': 660 }));
    const emperor = new EmperorProcess(['--emperor', dir.file('vassals')]);
    await pidsAnswering(socket, 1);
    const before = await facts(socket);
    await writeFile(file, serveIni(socket, { processes: 1, 'chmod-socket': 666, 'chown-socket': `${TEST_USER}:${TEST_EXTRA_GROUP}` }));
    await vi.waitFor(async () => expect(await facts(socket)).toEqual({ ...before, mode: 0o666, uid: tenant.uid, gid: extraGid }), { timeout: 20_000 });
    await emperor.waitForLog((r) => r.event === 'vassal.reloaded');
  });
});

describe.skipIf(!isRoot)(`links in a socket's place are never followed${skipReason}`, () => {
  it('default mode: a symlink to a root-owned file where the socket goes is refused, and its target is untouched', async () => {
    const { file: marker, before } = await rootMarker();
    const attackerDir = await userDir('attacker', attacker);
    await symlink(marker, `${attackerDir}/app.sock`);
    await vassal('v.ini', serveIni(`${attackerDir}/app.sock`, { processes: 1, 'chmod-socket': 666, 'chown-socket': `${OTHER_USER}:${OTHER_USER}` }));
    const emperor = new EmperorProcess(['--emperor', dir.file('vassals')]);
    const failed = await emperor.waitForLog((r) => r.event === 'vassal.start-failed');
    expect(failed.msg).toContain(`socket ${attackerDir}/app.sock: exists and is not a socket; refusing to replace it`);
    expect(await facts(marker)).toEqual(before);
  });

  it('tyrant mode: the same with the tenant as the attacker', async () => {
    const { file: marker, before } = await rootMarker();
    const tenantDir = await userDir('tenant', tenant);
    await symlink(marker, `${tenantDir}/app.sock`);
    await vassal('v.ini', serveIni(`${tenantDir}/app.sock`, { processes: 1, 'chmod-socket': 666 }), tenant);
    const emperor = new EmperorProcess(['--emperor', dir.file('vassals'), '--emperor-tyrant']);
    const failed = await emperor.waitForLog((r) => r.event === 'vassal.start-failed');
    expect(failed.msg).toContain(`socket ${tenantDir}/app.sock: exists and is not a socket; refusing to replace it`);
    expect(await facts(marker)).toEqual(before);
  });

  it('default mode: a symlink swapped in while a new generation changes the permissions changes nothing but the link', async () => {
    const { file: marker, before } = await rootMarker();
    const attackerDir = await userDir('attacker', attacker);
    const socket = `${attackerDir}/app.sock`;
    const file = await vassal('v.ini', serveIni(socket, { processes: 1, 'chmod-socket': 660 }));
    const emperor = new EmperorProcess(['--emperor', dir.file('vassals')]);
    await pidsAnswering(socket, 1);

    const { swapped } = await swapOnChmod(attacker, socket, marker, 0o666);
    // A chown-socket by name: the old code looked it up (milliseconds) between its chmod and its chown, by path.
    await writeFile(file, serveIni(socket, { processes: 1, 'chmod-socket': 666, 'chown-socket': `root:${TEST_EXTRA_GROUP}` }));
    await swapped;
    await emperor.waitForLog((r) => r.event === 'vassal.reloaded');
    expect(await facts(marker)).toEqual(before);
    expect((await facts(socket)).type).toBe('symlink');
  });

  it('tyrant mode: the same with the tenant as the attacker', async () => {
    const { file: marker, before } = await rootMarker();
    const tenantDir = await userDir('tenant', tenant);
    const socket = `${tenantDir}/app.sock`;
    const file = await vassal('v.ini', serveIni(socket, { processes: 1, 'chmod-socket': 660 }), tenant);
    const emperor = new EmperorProcess(['--emperor', dir.file('vassals'), '--emperor-tyrant']);
    await pidsAnswering(socket, 1);

    const { swapped } = await swapOnChmod(tenant, socket, marker, 0o666);
    await writeFile(file, serveIni(socket, { processes: 1, 'chmod-socket': 666, 'chown-socket': `${TEST_USER}:${TEST_EXTRA_GROUP}` }));
    await swapped;
    await emperor.waitForLog((r) => r.event === 'vassal.reloaded');
    expect(await facts(marker)).toEqual(before);
  });

  it('a symlink to a stale socket where the socket goes is neither followed nor removed', async () => {
    const attackerDir = await userDir('attacker', attacker);
    const stale = dir.file('stale.sock');
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(`${stale}.tmp`, resolve));
    fs.linkSync(`${stale}.tmp`, stale);
    await new Promise((resolve) => server.close(resolve));
    const staleBefore = await facts(stale);
    await symlink(stale, `${attackerDir}/app.sock`);
    await vassal('v.ini', serveIni(`${attackerDir}/app.sock`, { processes: 1 }));
    const emperor = new EmperorProcess(['--emperor', dir.file('vassals')]);
    const failed = await emperor.waitForLog((r) => r.event === 'vassal.start-failed');
    expect(failed.msg).toContain('exists and is not a socket; refusing to replace it');
    expect(await facts(stale)).toEqual(staleBefore);
    expect((await facts(`${attackerDir}/app.sock`)).type).toBe('symlink');
  });
});
