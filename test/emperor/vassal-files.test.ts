import { execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, lchownSync, mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_CONFIG_FILE_BYTES } from '../../src/config/config-host.js';
import { VassalScanner } from '../../src/emperor/vassal-files.js';
import { vassalSource } from '../../src/emperor/vassal-source.js';
import { untilClockPasses } from '../support/file-clock.js';
import { tempDir } from '../support/temp-dir.js';
import { isRoot, OTHER_USER, TEST_USER, testAccount } from '../support/test-users.js';

let dir: { path: string; remove: () => Promise<void> };
let server: net.Server | undefined;

beforeEach(async () => {
  dir = await tempDir('scan');
});

afterEach(async () => {
  if (server) await new Promise((resolve) => server!.close(resolve));
  server = undefined;
  await dir.remove();
});

const at = (name: string): string => path.join(dir.path, name);
const scanOnce = (scanner = new VassalScanner()) => scanner.scan([vassalSource(dir.path, ['.ini'])], 0);

describe('the vassal scanner', () => {
  it('reads only regular files, and reports every other kind named like a vassal file with its reason, never opening it', async () => {
    writeFileSync(at('good.ini'), '[uwsgi]\ncommand = x\n');
    execFileSync('mkfifo', [at('fifo.ini')]);
    symlinkSync('/dev/zero', at('zero.ini'));
    mkdirSync(at('real-dir'));
    symlinkSync(at('real-dir'), at('dir.ini'));
    symlinkSync('loop-b.ini', at('loop-a.ini'));
    symlinkSync('loop-a.ini', at('loop-b.ini'));
    writeFileSync(at('big.ini'), Buffer.alloc(MAX_CONFIG_FILE_BYTES + 1, '#'));
    server = net.createServer();
    await new Promise<void>((resolve) => server!.listen(at('sock.ini'), resolve));
    const started = performance.now();
    const scan = await scanOnce();
    expect(performance.now() - started).toBeLessThan(5_000);
    expect([...scan.files.keys()]).toEqual([at('good.ini')]);
    expect(Object.fromEntries(scan.unreadable)).toEqual({
      [at('fifo.ini')]: 'is a FIFO (named pipe), not a regular file',
      [at('zero.ini')]: 'is a character device, not a regular file',
      [at('dir.ini')]: 'is a directory, not a regular file',
      [at('sock.ini')]: 'is a socket, not a regular file',
      [at('big.ini')]: `${MAX_CONFIG_FILE_BYTES + 1} bytes is too big for a config file (limit ${MAX_CONFIG_FILE_BYTES})`,
      [at('loop-a.ini')]: 'too many levels of symbolic links (a symlink loop?)',
      [at('loop-b.ini')]: 'too many levels of symbolic links (a symlink loop?)',
    });
  });

  it('keeps what it read: a rescan of an unchanged file returns the same read, without reading it again', async () => {
    writeFileSync(at('a.ini'), '[uwsgi]\n');
    const scanner = new VassalScanner();
    // A file younger than the racy-stamp margin (2 s) is read at every scan; after it, the first read stands.
    await vi.waitFor(
      async () => {
        const first = (await scanOnce(scanner)).files.get(at('a.ini'));
        const second = (await scanOnce(scanner)).files.get(at('a.ini'));
        expect(second).toBeDefined();
        expect(second).toBe(first);
      },
      { timeout: 10_000, interval: 200 },
    );
  });

  it('holds a file being written for the settle time, and takes one renamed in complete at once, until it is written again', async () => {
    const settleMs = 60_000;
    const scan = (scanner: VassalScanner) => scanner.scan([vassalSource(dir.path, ['.ini'])], settleMs);
    const scanner = new VassalScanner();
    mkdirSync(at('staging'));
    writeFileSync(at('staging/renamed.ini'), '[uwsgi]\ncommand = a\n');
    writeFileSync(at('written.ini'), '[uwsgi]\ncommand = b\n');
    await untilClockPasses(at('staging/renamed.ini'));
    renameSync(at('staging/renamed.ini'), at('renamed.ini'));
    const first = await scan(scanner);
    expect([...first.files.keys()]).toEqual([at('renamed.ini')]);
    expect(first.files.get(at('renamed.ini'))?.text).toBe('[uwsgi]\ncommand = a\n');
    expect([...first.settling.keys()]).toEqual([at('written.ini')]);
    appendFileSync(at('renamed.ini'), 'processes = 2\n');
    const second = await scan(scanner);
    expect([...second.files.keys()]).toEqual([]);
    expect([...second.settling.keys()].sort()).toEqual([at('renamed.ini'), at('written.ini')]);
  });

  it.skipIf(!isRoot)('takes the owner from the file it read, and the link owner from the link', async () => {
    const alice = testAccount(TEST_USER);
    const bob = testAccount(OTHER_USER);
    writeFileSync(at('target'), '[uwsgi]\n');
    chownSync(at('target'), alice.uid, alice.gid);
    symlinkSync(at('target'), at('link.ini'));
    lchownSync(at('link.ini'), bob.uid, bob.gid);
    const scan = await scanOnce();
    expect(scan.files.get(at('link.ini'))?.owner).toEqual({ uid: alice.uid, gid: alice.gid, linkUid: bob.uid });
  });
});
