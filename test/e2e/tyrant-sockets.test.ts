// Tyrant mode and sockets: a tenant gets no socket it could not bind with its own account, and nothing of another
// tenant's. Needs root (CI runs as root): two real tenants (TEST_USER, OTHER_USER), real sockets, the real CLI.
import fs from 'node:fs';
import { chmod, chown, mkdir, readdir, rename, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { EmperorProcess } from '../support/emperor.js';
import { freePort } from '../support/nginx.js';
import { sandbox } from '../support/sandbox.js';
import { ask, askTcp, pidsAnswering, serveIni } from '../support/serving.js';
import { isRoot, OTHER_USER, TEST_EXTRA_GROUP, TEST_USER, testAccount, testGroupId, type TestAccount } from '../support/test-users.js';

const skipReason = isRoot ? '' : ' [SKIPPED: needs root to run vassals as tenants]';
if (skipReason) console.warn(`tyrant socket tests${skipReason}`);

const dir = sandbox();
let alice: TestAccount;
let bob: TestAccount;
let extraGid = -1;

beforeAll(() => {
  if (!isRoot) return;
  alice = testAccount(TEST_USER);
  bob = testAccount(OTHER_USER);
  extraGid = testGroupId(TEST_EXTRA_GROUP);
});

beforeEach(async () => {
  if (!isRoot) return;
  // The vassal files live in a root-owned directory; each tenant has a directory of its own for its sockets.
  await chmod(dir.path, 0o755);
  await mkdir(dir.file('vassals'), { mode: 0o755 });
  for (const [name, account] of [['alice', alice], ['bob', bob]] as const) {
    await mkdir(dir.file(name), { mode: 0o755 });
    await chown(dir.file(name), account.uid, account.gid);
  }
});

/** A vassal file owned by `tenant` (tyrant mode runs it as that user). */
async function tenantVassal(name: string, tenant: TestAccount, ini: string): Promise<void> {
  await writeFile(dir.file(`vassals/${name}`), ini);
  await chown(dir.file(`vassals/${name}`), tenant.uid, tenant.gid);
}

const tyrant = (...extra: string[]): EmperorProcess => new EmperorProcess(['--emperor', dir.file('vassals'), '--emperor-tyrant', ...extra]);

const startFailed = (emperor: EmperorProcess, vassal: string) => emperor.waitForLog((r) => r.event === 'vassal.start-failed' && r.vassal === vassal);

const fileFacts = async (file: string) => {
  const st = await stat(file);
  return { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, ino: st.ino };
};

/** A TCP port below 1024 that nothing on this machine uses right now. */
async function freeLowPort(): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const port = 700 + Math.floor(Math.random() * 300);
    const free = await new Promise<boolean>((resolve) => {
      const probe = net.createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port below 1024 found');
}

describe.skipIf(!isRoot)(`tyrant mode: sockets belong to their tenant${skipReason}`, () => {
  it('a chown of a vassal file to another tenant stops the old owner\'s vassal and starts it as the new owner, same address', async () => {
    const port = await freePort();
    await tenantVassal('a.ini', alice, serveIni(`127.0.0.1:${port}`, { processes: 1 }));
    const emperor = tyrant();
    await vi.waitFor(async () => expect((await askTcp(port)).uid).toBe(alice.uid), { timeout: 20_000, interval: 50 });
    // Its spawn record, not whatever has been read of the emperor's output so far: on a busy machine the answer can
    // be read before the record (one full run found spawnedPids() still empty here).
    const alicePid = (await emperor.waitForLog((r) => r.event === 'worker.spawn' && r.vassal === 'a.ini')).pid;
    expect(alicePid).toEqual(expect.any(Number));

    await chown(dir.file('vassals/a.ini'), bob.uid, bob.gid);
    const changed = await emperor.waitForLog((r) => r.event === 'vassal.owner-changed' && r.vassal === 'a.ini');
    expect(changed).toMatchObject({ from: `${alice.uid}:${alice.gid}`, to: `${bob.uid}:${bob.gid}` });
    await vi.waitFor(async () => expect((await askTcp(port)).uid).toBe(bob.uid), { timeout: 20_000, interval: 50 });
    expect(emperor.events('vassal.start-failed')).toEqual([]);
    expect(emperor.events('vassal.reload-failed')).toEqual([]);
    await vi.waitFor(() => expect(emperor.events('worker.exit', 'a.ini').map((r) => r.pid)).toContain(alicePid));
  });

  it("refuses a tenant the TCP address of another tenant's vassal; the holder keeps every connection", async () => {
    const port = await freePort();
    await tenantVassal('a.ini', alice, serveIni(`127.0.0.1:${port}`));
    const emperor = tyrant();
    await vi.waitFor(() => askTcp(port), { timeout: 20_000, interval: 50 });
    await emperor.waitForLog((r) => r.event === 'vassal.ready' && r.vassal === 'a.ini');

    await tenantVassal('b.ini', bob, serveIni(`127.0.0.1:${port}`));
    const refused = await startFailed(emperor, 'b.ini');
    expect(refused.msg).toContain(
      `socket 127.0.0.1:${port} belongs to another tenant's vassal (uid ${alice.uid} gid ${alice.gid}); this vassal runs as uid ${bob.uid} gid ${bob.gid}`,
    );
    expect(emperor.spawnedPids('b.ini')).toEqual([]);
    const alicePids = new Set(emperor.spawnedPids('a.ini'));
    for (let i = 0; i < 30; i++) {
      const answer = await askTcp(port);
      expect(alicePids.has(answer.pid)).toBe(true);
      expect(answer.uid).toBe(alice.uid);
    }
  });

  it("refuses a tenant another tenant's unix socket path, and its chmod-socket/chown-socket never reach that file", async () => {
    const socket = dir.file('alice/app.sock');
    await tenantVassal('a.ini', alice, serveIni(socket, { 'chmod-socket': 660 }));
    const emperor = tyrant();
    await pidsAnswering(socket, 2);
    const before = await fileFacts(socket);
    expect(before).toMatchObject({ mode: 0o660, uid: alice.uid, gid: alice.gid });

    await tenantVassal('b.ini', bob, serveIni(socket, { 'chmod-socket': 666, 'chown-socket': `${OTHER_USER}:${OTHER_USER}` }));
    const refused = await startFailed(emperor, 'b.ini');
    expect(refused.msg).toContain(`socket ${socket} belongs to another tenant's vassal (uid ${alice.uid} gid ${alice.gid})`);
    expect(await fileFacts(socket)).toEqual(before);
    expect(emperor.spawnedPids('b.ini')).toEqual([]);
    expect((await ask(socket)).uid).toBe(alice.uid);
  });

  it("hands a tenant's socket over between its own vassals: mv a.ini b.ini keeps the same socket file", async () => {
    const socket = dir.file('alice/app.sock');
    await tenantVassal('a.ini', alice, serveIni(socket, { processes: 1 }));
    const emperor = tyrant();
    await pidsAnswering(socket, 1);
    const before = await fileFacts(socket);
    await rename(dir.file('vassals/a.ini'), dir.file('vassals/b.ini'));
    await vi.waitFor(async () => expect(emperor.spawnedPids('b.ini')).toContain((await ask(socket)).pid), { timeout: 20_000, interval: 50 });
    expect(await fileFacts(socket)).toEqual(before);
    expect(emperor.events('vassal.start-failed')).toEqual([]);
  });

  it('refuses a TCP port below 1024 to a tenant, and binds it with tyrant-privileged-ports', async () => {
    const port = await freeLowPort();
    await tenantVassal('low.ini', alice, serveIni(`127.0.0.1:${port}`, { processes: 1 }));
    const strict = tyrant();
    const refused = await startFailed(strict, 'low.ini');
    expect(refused.msg).toContain(`socket 127.0.0.1:${port}: port ${port} is below 1024; in tyrant mode, ports below 1024 need tyrant-privileged-ports on the emperor`);
    expect(strict.spawnedPids('low.ini')).toEqual([]);
    await strict.kill();

    const lenient = tyrant('--tyrant-privileged-ports');
    const answer = await vi.waitFor(() => askTcp(port), { timeout: 20_000, interval: 50 });
    expect(answer.uid).toBe(alice.uid);
    expect(lenient.events('vassal.start-failed')).toEqual([]);
  });

  it('binds a unix socket as the tenant: refused in a directory the tenant may not write, and no file appears there', async () => {
    await mkdir(dir.file('root-only'), { mode: 0o755 });
    await tenantVassal('d.ini', alice, serveIni(dir.file('root-only/app.sock'), { processes: 1 }));
    await tenantVassal('ok.ini', alice, serveIni(dir.file('alice/ok.sock'), { processes: 1 }));
    const emperor = tyrant();
    const refused = await startFailed(emperor, 'd.ini');
    expect(refused.msg).toContain(`socket ${dir.file('root-only/app.sock')}: uid ${alice.uid} may not create a socket in ${dir.file('root-only')} (EACCES)`);
    expect(await readdir(dir.file('root-only'))).toEqual([]);
    // The same tenant's socket in its own directory: created by the tenant, with chmod-socket's mode.
    await pidsAnswering(dir.file('alice/ok.sock'), 1);
    expect(await fileFacts(dir.file('alice/ok.sock'))).toMatchObject({ mode: 0o660, uid: alice.uid, gid: alice.gid });
  });

  it('limits chown-socket to the tenant itself and its groups', async () => {
    await tenantVassal('other-user.ini', alice, serveIni(dir.file('alice/u.sock'), { processes: 1, 'chown-socket': OTHER_USER }));
    await tenantVassal('other-group.ini', alice, serveIni(dir.file('alice/g.sock'), { processes: 1, 'chown-socket': `${TEST_USER}:${OTHER_USER}` }));
    await tenantVassal('own-group.ini', alice, serveIni(dir.file('alice/own.sock'), { processes: 1, 'chown-socket': `:${TEST_EXTRA_GROUP}` }));
    const emperor = tyrant();
    const user = await startFailed(emperor, 'other-user.ini');
    expect(user.msg).toContain(
      `socket ${dir.file('alice/u.sock')}: chown-socket = ${OTHER_USER}: uid ${bob.uid} is not the vassal's owner (uid ${alice.uid}); in tyrant mode a socket can only belong to its owner`,
    );
    const group = await startFailed(emperor, 'other-group.ini');
    expect(group.msg).toContain(`socket ${dir.file('alice/g.sock')}: chown-socket = ${TEST_USER}:${OTHER_USER}: gid ${bob.gid} is not a group of uid ${alice.uid}`);
    await pidsAnswering(dir.file('alice/own.sock'), 1);
    expect(await fileFacts(dir.file('alice/own.sock'))).toMatchObject({ uid: alice.uid, gid: extraGid });
    expect((await readdir(dir.file('alice'))).sort()).toEqual(['own.sock']);
  });

  it("leaves a stale socket in a directory only root may write: the tenant's helper may not remove it", async () => {
    await mkdir(dir.file('root-only'), { mode: 0o755 });
    /** A socket file nothing listens on (what a crash leaves), root's, with `mode`. */
    const staleSocket = async (file: string, mode: number) => {
      const server = net.createServer();
      await new Promise<void>((resolve) => server.listen(`${file}.tmp`, resolve));
      fs.linkSync(`${file}.tmp`, file);
      await new Promise((resolve) => server.close(resolve));
      await chmod(file, mode);
      return fileFacts(file);
    };
    // Connectable by anyone, so the tenant's check sees it is stale; and one the tenant may not even connect to.
    const stale = dir.file('root-only/app.sock');
    const before = await staleSocket(stale, 0o777);
    const closed = dir.file('root-only/private.sock');
    const closedBefore = await staleSocket(closed, 0o700);

    await tenantVassal('h.ini', alice, serveIni(stale, { processes: 1 }));
    await tenantVassal('p.ini', alice, serveIni(closed, { processes: 1 }));
    const emperor = tyrant();
    const refused = await startFailed(emperor, 'h.ini');
    expect(refused.msg).toContain(
      `socket ${stale}: a stale socket file (nothing listens on it) is in the way, and uid ${alice.uid} may not remove it from ${dir.file('root-only')} (EACCES)`,
    );
    const unprobed = await startFailed(emperor, 'p.ini');
    expect(unprobed.msg).toContain(`socket ${closed}: a socket file is there, and uid ${alice.uid} may not connect to it to see whether it is stale; refusing to replace it`);
    expect(await fileFacts(stale)).toEqual(before);
    expect(await fileFacts(closed)).toEqual(closedBefore);
  });
});
