import { execFileSync } from 'node:child_process';
import { chownSync, closeSync, constants, existsSync, lstatSync, mkdirSync, openSync, readFileSync, readSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runtimeDir } from '../../src/runtime/runtime-dir.js';
import { StopFifo } from '../../src/worker/stop-fifo.js';
import { tempDir } from '../support/temp-dir.js';
import { isRoot, OTHER_USER, TEST_USER, testAccount } from '../support/test-users.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function fifo(owner?: { uid: number; gid: number }): StopFifo {
  const f = StopFifo.create(owner);
  cleanups.push(() => void f.remove());
  return f;
}

/** Makes the FIFO as the worker would, and opens its read end (non-blocking), as uWSGI's master does. */
function workerMakes(f: StopFifo, owner?: { uid: number; gid: number }): number {
  execFileSync('/usr/bin/mkfifo', ['-m', '600', f.path]);
  if (owner) chownSync(f.path, owner.uid, owner.gid);
  const fd = openSync(f.path, constants.O_RDONLY | constants.O_NONBLOCK);
  cleanups.push(() => closeSync(fd));
  return fd;
}

function readAll(fd: number): string {
  const buf = Buffer.alloc(64);
  try {
    return buf.subarray(0, readSync(fd, buf)).toString();
  } catch {
    return '';
  }
}

describe.skipIf(!isRoot)('StopFifo (a worker stopped by writing to a FIFO it created)', () => {
  it("gives each worker a directory of its own in the runtime directory: its user's, mode 0700", () => {
    const user = testAccount(TEST_USER);
    const a = fifo(user);
    const b = fifo(user);
    expect(path.dirname(path.dirname(a.path))).toBe(runtimeDir());
    expect(path.dirname(a.path)).not.toBe(path.dirname(b.path));
    const st = statSync(path.dirname(a.path));
    expect({ uid: st.uid, gid: st.gid, mode: st.mode & 0o777 }).toEqual({ uid: user.uid, gid: user.gid, mode: 0o700 });
  });

  it("writes the text to the worker's FIFO", () => {
    const user = testAccount(TEST_USER);
    const f = fifo(user);
    const fd = workerMakes(f, user);
    expect(f.write('q')).toEqual({ ok: true });
    expect(readAll(fd)).toBe('q');
  });

  it('says why when there is nothing to write to, without blocking, and that a later try may succeed: not created yet, nobody reading', () => {
    const f = fifo();
    expect(f.write('q')).toEqual({ ok: false, reason: `${f.path} does not exist (not created yet)`, retry: true });
    execFileSync('/usr/bin/mkfifo', ['-m', '600', f.path]);
    const started = Date.now();
    expect(f.write('q')).toEqual({ ok: false, reason: `nothing reads ${f.path}`, retry: true });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('follows no link the worker put there: a FIFO of root with a reader gets nothing', async () => {
    const user = testAccount(TEST_USER);
    const f = fifo(user);
    const dir = await tempDir('sv-fifo');
    cleanups.push(dir.remove);
    const target = path.join(dir.path, 'root.fifo');
    execFileSync('/usr/bin/mkfifo', ['-m', '600', target]);
    const fd = openSync(target, constants.O_RDONLY | constants.O_NONBLOCK);
    cleanups.push(() => closeSync(fd));
    symlinkSync(target, f.path);
    expect(f.write('q')).toEqual({ ok: false, reason: `${f.path} is a symbolic link` });
    expect(readAll(fd)).toBe('');
  });

  it("writes nothing into a regular file, nor into a FIFO of another user", () => {
    const user = testAccount(TEST_USER);
    const other = testAccount(OTHER_USER);
    const f = fifo(user);
    writeFileSync(f.path, 'data');
    expect(f.write('q')).toEqual({ ok: false, reason: `${f.path} is not a FIFO` });
    expect(readFileSync(f.path, 'utf8')).toBe('data');

    const g = fifo(user);
    const fd = workerMakes(g, other);
    expect(g.write('q')).toEqual({ ok: false, reason: `${g.path} belongs to uid ${other.uid}, not to the worker's uid ${user.uid}` });
    expect(readAll(fd)).toBe('');
  });

  it('removes what the worker left without following its links: taken back directory by directory before it is read', async () => {
    const user = testAccount(TEST_USER);
    const f = fifo(user);
    const dir = path.dirname(f.path);
    const outside = await tempDir('sv-fifo');
    cleanups.push(outside.remove);
    writeFileSync(path.join(outside.path, 'precious'), 'keep me');
    // What a tenant could leave: links to root's files and directories, a directory of its own with more links.
    symlinkSync(outside.path, path.join(dir, 'link-to-dir'));
    symlinkSync(path.join(outside.path, 'precious'), path.join(dir, 'link-to-file'));
    mkdirSync(path.join(dir, 'sub'), { mode: 0o777 });
    chownSync(path.join(dir, 'sub'), user.uid, user.gid);
    symlinkSync(outside.path, path.join(dir, 'sub', 'deeper'));
    execFileSync('/usr/bin/mkfifo', [f.path]);
    expect(f.remove()).toBeUndefined();
    expect(existsSync(dir)).toBe(false);
    expect(readFileSync(path.join(outside.path, 'precious'), 'utf8')).toBe('keep me');
    expect(lstatSync(outside.path).isDirectory()).toBe(true);
    expect(f.remove()).toBeUndefined();
  });
});
