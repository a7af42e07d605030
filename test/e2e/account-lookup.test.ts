// Needs root (CI runs as root): a hung account lookup (an LDAP server that does not answer) is played by a getent
// that never returns, bind-mounted over /usr/bin/getent in a mount namespace of the emperor's own.
import { writeFile } from 'node:fs/promises';
import { describe, expect, it, vi } from 'vitest';
import { EmperorProcess } from '../support/emperor.js';
import { sandbox } from '../support/sandbox.js';
import { ask, pidsAnswering, serveIni } from '../support/serving.js';
import { isRoot, TEST_USER } from '../support/test-users.js';
import { isAlive } from '../support/processes.js';

const skipReason = isRoot ? '' : ' [SKIPPED: needs root for a mount namespace]';
if (skipReason) console.warn(`account lookup tests${skipReason}`);

const dir = sandbox();

describe.skipIf(!isRoot)(`account lookups${skipReason}`, () => {
  it('time out: a vassal whose uid lookup hangs fails to start and is retried; the others are served, and stop is prompt', async () => {
    const hang = dir.file('getent-hangs');
    await writeFile(hang, '#!/bin/sh\nexec sleep 3600\n', { mode: 0o755 });
    const script = dir.file('ns.sh');
    await writeFile(script, `set -e\nmount --bind ${hang} /usr/bin/getent\nexec "$@"\n`);
    await writeFile(dir.file('fast.ini'), serveIni('fast.sock', { processes: 1 }));
    await writeFile(dir.file('slow.ini'), serveIni('slow.sock', { processes: 1, uid: TEST_USER }));
    const emperor = new EmperorProcess(['--emperor', dir.path], { wrap: ['unshare', '--mount', '--propagation', 'private', '/bin/sh', script] });

    const [fast] = await pidsAnswering(dir.file('fast.sock'), 1);
    const failed = await emperor.waitForLog((r) => r.event === 'vassal.start-failed' && r.vassal === 'slow.ini', 30_000);
    expect(failed.msg).toContain(`looking up user ${TEST_USER} took longer than 5 s`);
    expect(emperor.spawnedPids('slow.ini')).toEqual([]);

    // Supervision went on meanwhile: a killed worker of the other vassal is replaced.
    process.kill(fast!, 'SIGKILL');
    await vi.waitFor(async () => expect((await ask(dir.file('fast.sock'))).pid).not.toBe(fast), { timeout: 20_000, interval: 50 });

    // A stop does not wait for a lookup in flight longer than its own time limit.
    const stopAt = Date.now();
    emperor.child.kill('SIGTERM');
    expect(await emperor.exit()).toEqual({ code: 0, signal: undefined });
    expect(Date.now() - stopAt).toBeLessThan(8000);
    expect(emperor.liveDescendants().filter(isAlive)).toEqual([]);
  });
});
