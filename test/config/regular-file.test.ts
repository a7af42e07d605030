import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readRegularFile } from '../../src/config/regular-file.js';
import { tempDir } from '../support/temp-dir.js';

let dir: { path: string; remove: () => Promise<void> };
const servers: net.Server[] = [];

beforeEach(async () => {
  dir = await tempDir('regular');
});

afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
  await dir.remove();
});

const at = (name: string): string => path.join(dir.path, name);
const LIMIT = 1024;

/** Runs a read and measures it: a refusal of a FIFO or device must come at once, not after a writer shows up. */
function timed(file: string, options: { limit?: number; follow?: boolean } = {}): { result: ReturnType<typeof readRegularFile>; ms: number } {
  const started = performance.now();
  const result = readRegularFile(file, { limit: options.limit ?? LIMIT, follow: options.follow });
  return { result, ms: performance.now() - started };
}

describe('readRegularFile', () => {
  it('reads a regular file and returns the fstat of the descriptor it read from', () => {
    writeFileSync(at('a.ini'), '[uwsgi]\nx = ☃\n');
    const { result } = timed(at('a.ini'));
    const st = lstatSync(at('a.ini'), { bigint: true });
    expect(result).toMatchObject({ ok: true, text: '[uwsgi]\nx = ☃\n', bytes: Buffer.byteLength('[uwsgi]\nx = ☃\n') });
    if (!result.ok) throw new Error('unreachable');
    expect([result.stat.dev, result.stat.ino, result.stat.uid, result.stat.gid, result.stat.isFile()]).toEqual([st.dev, st.ino, st.uid, st.gid, true]);
  });

  it('refuses a FIFO at once, without waiting for a writer', () => {
    execFileSync('mkfifo', [at('fifo')]);
    const { result, ms } = timed(at('fifo'));
    expect(result).toEqual({ ok: false, code: 'ENOTREG', reason: 'is a FIFO (named pipe), not a regular file' });
    expect(ms).toBeLessThan(1000);
  });

  it('refuses character devices without reading from them: /dev/zero, /dev/null', () => {
    for (const device of ['/dev/zero', '/dev/null']) {
      expect(timed(device).result).toEqual({ ok: false, code: 'ENOTREG', reason: 'is a character device, not a regular file' });
    }
  });

  it('refuses a directory and a unix socket', async () => {
    mkdirSync(at('sub'));
    expect(timed(at('sub')).result).toEqual({ ok: false, code: 'ENOTREG', reason: 'is a directory, not a regular file' });
    const server = net.createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(at('s.sock'), resolve));
    expect(timed(at('s.sock')).result).toEqual({ ok: false, code: 'ENOTREG', reason: 'is a socket, not a regular file' });
  });

  it('follows a symlink by default, and refuses the link itself when asked not to follow', () => {
    writeFileSync(at('target.ini'), 'target\n');
    symlinkSync('target.ini', at('link.ini'));
    expect(timed(at('link.ini')).result).toMatchObject({ ok: true, text: 'target\n' });
    expect(timed(at('link.ini'), { follow: false }).result).toEqual({ ok: false, code: 'ENOTREG', reason: 'is a symbolic link, which is not followed here' });
    // A link to a FIFO is refused as a FIFO, not waited on.
    execFileSync('mkfifo', [at('fifo')]);
    symlinkSync('fifo', at('to-fifo.ini'));
    expect(timed(at('to-fifo.ini')).result).toMatchObject({ ok: false, code: 'ENOTREG', reason: expect.stringContaining('FIFO') });
  });

  it('refuses a symlink loop and a missing file with their reasons', () => {
    symlinkSync('b', at('a'));
    symlinkSync('a', at('b'));
    expect(timed(at('a')).result).toEqual({ ok: false, code: 'ELOOP', reason: 'too many levels of symbolic links (a symlink loop?)' });
    expect(timed(at('nope')).result).toEqual({ ok: false, code: 'ENOENT', reason: 'no such file' });
    writeFileSync(at('plain'), 'x');
    expect(timed(at('plain/below')).result).toMatchObject({ ok: false, code: 'ENOTDIR' });
  });

  it('takes a file of exactly the limit and refuses one byte more', () => {
    writeFileSync(at('exact'), Buffer.alloc(LIMIT, 'x'));
    writeFileSync(at('over'), Buffer.alloc(LIMIT + 1, 'x'));
    expect(timed(at('exact')).result).toMatchObject({ ok: true, bytes: LIMIT });
    expect(timed(at('over')).result).toEqual({ ok: false, code: 'EFBIG', reason: `${LIMIT + 1} bytes is too big for a config file (limit ${LIMIT})` });
  });

  it('counts the bytes it reads, not what stat says: /proc files have size 0', () => {
    expect(lstatSync('/proc/self/status').size).toBe(0);
    const { result } = timed('/proc/self/status', { limit: 1024 * 1024 });
    expect(result).toMatchObject({ ok: true, text: expect.stringContaining(`Pid:\t${process.pid}\n`) });
    // Bigger than a small limit although stat says 0 bytes: the count of bytes read decides.
    expect(timed('/proc/self/status', { limit: 16 }).result).toEqual({ ok: false, code: 'EFBIG', reason: 'more than 16 bytes, too big for a config file (limit 16)' });
  });
});
