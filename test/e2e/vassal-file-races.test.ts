// Needs root (CI runs as root): tyrant mode runs each vassal as its file's owner. A vassal file is swapped, many
// times, between a regular file, a FIFO, a symlink to another tenant's directory and a symlink to another tenant's
// file, while the emperor rescans every few milliseconds. The emperor never blocks, and never runs one file's
// content with another file's owner.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, lchownSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { EmperorProcess } from '../support/emperor.js';
import { isAlive } from '../support/processes.js';
import { sandbox } from '../support/sandbox.js';
import { ask, pidsAnswering, serveIni } from '../support/serving.js';
import { isRoot, OTHER_USER, TEST_USER, testAccount, type TestAccount } from '../support/test-users.js';

const skipReason = isRoot ? '' : ' [SKIPPED: needs root to give files to other users]';
if (skipReason) console.warn(`vassal file race tests${skipReason}`);

const dir = sandbox('race');
let alice: TestAccount;
let bob: TestAccount;

beforeAll(() => {
  if (!isRoot) return;
  alice = testAccount(TEST_USER);
  bob = testAccount(OTHER_USER);
});

const SWAPS = 400;

describe.skipIf(!isRoot)(`a vassal file swapped under the emperor${skipReason}`, () => {
  it('never blocks the emperor and never runs content with the owner of another file', async () => {
    chmodSync(dir.path, 0o755);
    const vassals = dir.file('vassals');
    const stage = dir.file('stage');
    const bobDir = dir.file('bob');
    for (const d of [vassals, stage, bobDir]) mkdirSync(d, { mode: 0o755 });
    chownSync(bobDir, bob.uid, bob.gid);
    // Every worker of x.ini writes the uid it runs as and the name its content carries.
    const record = dir.file('ran');
    writeFileSync(record, '');
    chmodSync(record, 0o666);
    const script = dir.file('record.sh');
    writeFileSync(script, 'echo "$(id -u) $WHO" >> "$RECORD"\nexec sleep 100000\n', { mode: 0o755 });
    const content = (who: string): string => ['[uwsgi]', `command = /bin/sh ${script}`, `env = WHO=${who}`, `env = RECORD=${record}`, ''].join('\n');
    const bobFile = path.join(bobDir, 'bob.ini');
    writeFileSync(bobFile, content('bob'));
    chownSync(bobFile, bob.uid, bob.gid);

    // A tenant's socket goes in a directory the tenant may write (it is bound with the tenant's rights).
    const aliceDir = dir.file('alice');
    mkdirSync(aliceDir, { mode: 0o755 });
    chownSync(aliceDir, alice.uid, alice.gid);
    const goodSocket = path.join(aliceDir, 'good.sock');
    const good = path.join(vassals, 'good.ini');
    writeFileSync(good, serveIni(goodSocket));
    chownSync(good, alice.uid, alice.gid);
    const x = path.join(vassals, 'x.ini');
    const emperor = new EmperorProcess(['--emperor', vassals, '--emperor-tyrant', '--emperor-freq', '0.02', '--emperor-settle', '0.005']);
    await pidsAnswering(goodSocket);
    await vi.waitFor(() => expect(new Set(emperor.events('worker.ready', 'good.ini').map((r) => r.pid))).toHaveProperty('size', 2), { timeout: 20_000 });

    const fifos = Array.from({ length: SWAPS }, (_, i) => path.join(stage, `fifo${i}`));
    execFileSync('mkfifo', fifos);
    for (let i = 0; i < SWAPS; i++) {
      const staged = path.join(stage, `next${i}`);
      switch (i % 4) {
        case 0: // alice's own vassal
          writeFileSync(staged, content('alice'));
          chownSync(staged, alice.uid, alice.gid);
          break;
        case 1: // a FIFO: opening it for reading would wait for a writer that never comes
          renameSync(fifos[i]!, staged);
          break;
        case 2: // bob's link to bob's directory
          symlinkSync(bobDir, staged);
          lchownSync(staged, bob.uid, bob.gid);
          break;
        default: // bob's link to bob's file
          symlinkSync(bobFile, staged);
          lchownSync(staged, bob.uid, bob.gid);
      }
      renameSync(staged, x);
      await sleep(Math.floor(Math.random() * 25));
    }

    // The emperor still acts: on its directory, on a dead worker, on SIGHUP.
    const victim = emperor.spawnedPids('good.ini')[0]!;
    process.kill(victim, 'SIGKILL');
    await vi.waitFor(() => expect(emperor.spawnedPids('good.ini').filter((pid) => pid !== victim && isAlive(pid)).length).toBeGreaterThanOrEqual(2), { timeout: 20_000 });
    const reloadsBefore = emperor.events('vassal.reload', 'good.ini').length;
    process.kill(emperor.pid, 'SIGHUP');
    await vi.waitFor(() => expect(emperor.events('vassal.reload', 'good.ini').length).toBeGreaterThan(reloadsBefore), { timeout: 20_000 });
    expect((await ask(goodSocket)).uid).toBe(alice.uid);

    // Every worker of x.ini ran its content as that content's owner, and never as root.
    const owners = new Map([[String(alice.uid), 'alice'], [String(bob.uid), 'bob']]);
    const lines = readFileSync(record, 'utf8').split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      const [uid, who] = line.split(' ');
      expect(owners.get(uid!), line).toBe(who);
    }
    expect(emperor.events('emperor.unreadable').some((r) => String(r.msg).includes('is a FIFO'))).toBe(true);
  });
});
