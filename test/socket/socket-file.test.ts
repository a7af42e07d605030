// Real files and sockets in a temp dir: the link-safe operations on socket files, and the stale-socket check.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { removeSocketIfSame, setInodePermissions, SocketFileError, withSocketFile } from '../../src/socket/socket-file.js';
import { clearStaleSocket, SocketInUseError } from '../../src/socket/stale-socket.js';
import { sandbox } from '../support/sandbox.js';

const dir = sandbox('svsock');
const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function listening(file: string): Promise<net.Server> {
  const server = net.createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(file, resolve));
  return server;
}

/** A socket file nothing listens on (what a crashed process leaves): a second name of a socket that was closed. */
async function staleSocket(file: string): Promise<void> {
  const tmp = `${file}.tmp`;
  const server = await listening(tmp);
  fs.linkSync(tmp, file);
  servers.splice(servers.indexOf(server), 1);
  await new Promise((resolve) => server.close(resolve));
}

function marker(): { file: string; before: fs.Stats } {
  const file = dir.file('marker');
  fs.writeFileSync(file, 'secret', { mode: 0o600 });
  return { file, before: fs.statSync(file) };
}

const perms = (st: fs.Stats) => ({ mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, ino: st.ino });

describe('withSocketFile', () => {
  it('refuses a symlink in the socket\'s place, even one to a socket, without touching the target', async () => {
    await listening(dir.file('real.sock'));
    fs.symlinkSync(dir.file('real.sock'), dir.file('link.sock'));
    const before = perms(fs.statSync(dir.file('real.sock')));
    expect(() => withSocketFile(dir.file('link.sock'), undefined, (fd) => setInodePermissions(fd, { mode: 0o600 }))).toThrow(
      new SocketFileError(dir.file('link.sock'), 'ENOTSOCK', `${dir.file('link.sock')} is a symlink, not a socket`),
    );
    expect(perms(fs.statSync(dir.file('real.sock')))).toEqual(before);
  });

  it('refuses a socket that is not the expected inode', async () => {
    await listening(dir.file('a.sock'));
    const id = withSocketFile(dir.file('a.sock'), undefined, (_fd, found) => found);
    expect(() => withSocketFile(dir.file('a.sock'), { dev: id.dev, ino: id.ino + 1 }, () => 'changed')).toThrow(/no longer the socket the supervisor created/);
    expect(withSocketFile(dir.file('a.sock'), id, () => 'same')).toBe('same');
  });

  it('changes the inode it opened when the path is swapped for a symlink to a marker in between', async () => {
    const { file, before } = marker();
    await listening(dir.file('a.sock'));
    fs.linkSync(dir.file('a.sock'), dir.file('kept.sock'));
    fs.symlinkSync(file, dir.file('evil'));
    withSocketFile(dir.file('a.sock'), undefined, (fd) => {
      // The attacker's move, between our check and our change.
      fs.renameSync(dir.file('evil'), dir.file('a.sock'));
      setInodePermissions(fd, { mode: 0o666, uid: 1, gid: 1 });
    });
    expect(perms(fs.statSync(file))).toEqual(perms(before));
    expect(perms(fs.lstatSync(dir.file('kept.sock')))).toMatchObject({ mode: 0o666, uid: 1, gid: 1 });
  });
});

describe('removeSocketIfSame', () => {
  it('removes the socket it was given, and nothing that took its name', async () => {
    await listening(dir.file('a.sock'));
    const id = withSocketFile(dir.file('a.sock'), undefined, (_fd, found) => found);
    fs.linkSync(dir.file('a.sock'), dir.file('ours'));

    fs.renameSync(dir.file('a.sock'), dir.file('moved.sock'));
    await listening(dir.file('a.sock'));
    expect(removeSocketIfSame(dir.file('a.sock'), id)).toBe(false);
    expect(fs.lstatSync(dir.file('a.sock')).isSocket()).toBe(true);

    fs.rmSync(dir.file('a.sock'));
    fs.symlinkSync(dir.file('ours'), dir.file('a.sock'));
    expect(removeSocketIfSame(dir.file('a.sock'), id)).toBe(false);
    expect(fs.lstatSync(dir.file('a.sock')).isSymbolicLink()).toBe(true);

    expect(removeSocketIfSame(dir.file('ours'), id)).toBe(true);
    expect(fs.existsSync(dir.file('ours'))).toBe(false);
    expect(removeSocketIfSame(dir.file('gone/x.sock'), id)).toBe(false);
  });
});

describe('clearStaleSocket', () => {
  it('removes a socket file nothing listens on', async () => {
    await staleSocket(dir.file('stale.sock'));
    await clearStaleSocket(dir.file('stale.sock'));
    expect(fs.existsSync(dir.file('stale.sock'))).toBe(false);
  });

  it('refuses a live socket and leaves it', async () => {
    await listening(dir.file('live.sock'));
    await expect(clearStaleSocket(dir.file('live.sock'))).rejects.toThrow(new SocketInUseError(dir.file('live.sock'), 'another process is listening on this socket'));
    expect(fs.lstatSync(dir.file('live.sock')).isSocket()).toBe(true);
  });

  it('does not follow a symlink to a stale socket: both stay', async () => {
    await staleSocket(dir.file('stale.sock'));
    fs.symlinkSync(dir.file('stale.sock'), dir.file('link.sock'));
    await expect(clearStaleSocket(dir.file('link.sock'))).rejects.toThrow(/link\.sock: exists and is not a socket; refusing to replace it/);
    expect(fs.lstatSync(dir.file('link.sock')).isSymbolicLink()).toBe(true);
    expect(fs.lstatSync(dir.file('stale.sock')).isSocket()).toBe(true);
  });

  it('refuses a regular file, and lets a missing path be', async () => {
    fs.writeFileSync(dir.file('file'), 'x');
    await expect(clearStaleSocket(dir.file('file'))).rejects.toBeInstanceOf(SocketInUseError);
    await expect(clearStaleSocket(path.join(dir.path, 'none.sock'))).resolves.toBeUndefined();
  });
});
