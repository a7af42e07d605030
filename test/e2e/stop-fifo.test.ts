import { existsSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { EmperorProcess, fixtureCommand, vassalIni } from '../support/emperor.js';
import { sandbox } from '../support/sandbox.js';
import { isRoot, TEST_USER } from '../support/test-users.js';

const dir = sandbox('sv-fifo');

/** The worker's own line "stop fifo PATH" (the fixture prints where it was told to create it). */
const fifoPaths = (emperor: EmperorProcess): string[] =>
  emperor.events('worker.output').flatMap((r) => (/^stop fifo (.+)$/.exec(r.msg)?.[1] ? [/^stop fifo (.+)$/.exec(r.msg)![1]!] : []));

describe('stop-fifo: a worker stopped by what it reads on its FIFO, not by a signal', () => {
  it.skipIf(!isRoot)("writes the text to the FIFO the worker created in its own directory; the stop signal is not sent, and each generation has its FIFO", async () => {
    // The worker runs as the test user and starts in the vassal's directory.
    await chmod(dir.path, 0o755);
    await writeFile(
      dir.file('app.ini'),
      vassalIni({ command: fixtureCommand('stop-on-fifo'), 'stop-fifo': 'q', 'notification-fd': 'auto', 'worker-reload-mercy': 30, uid: TEST_USER }),
    );
    const emperor = new EmperorProcess(['--emperor', dir.path]);
    await emperor.waitForLog((r) => r.event === 'vassal.ready');
    emperor.child.kill('SIGHUP');
    await emperor.waitForLog((r) => r.event === 'vassal.reloaded');
    // The old worker's FIFO directory goes when it exits, not only with the run directory when the emperor stops.
    const oldPid = emperor.spawnedPids('app.ini')[0];
    await emperor.waitForLog((r) => r.event === 'worker.exit' && r.pid === oldPid);
    const oldFifo = await vi.waitFor(() => {
      const paths = fifoPaths(emperor);
      if (paths.length < 2) throw new Error(`the FIFO lines are not all logged yet: ${paths.join(', ')}`);
      return paths[0]!;
    });
    await vi.waitFor(() => expect(existsSync(path.dirname(oldFifo))).toBe(false), { timeout: 10_000 });
    expect(existsSync(path.dirname(fifoPaths(emperor)[1]!))).toBe(true);
    const started = Date.now();
    emperor.child.kill('SIGTERM');
    expect(await emperor.exit()).toEqual({ code: 0, signal: undefined });
    // The fixture ignores SIGTERM: only the FIFO can have stopped it this fast, and without SIGKILL.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(emperor.events('worker.stop').map((r) => r.request)).toEqual(['written', 'written']);
    expect(emperor.events('worker.kill')).toEqual([]);
    expect(emperor.events('worker.output').filter((r) => r.msg === 'read q: stopping')).toHaveLength(2);
    expect(emperor.events('worker.output').filter((r) => r.msg === 'ignoring SIGTERM')).toEqual([]);
    const [first, second] = fifoPaths(emperor);
    expect(first).not.toBe(second);
    expect(path.basename(first!)).toBe('fifo');
    expect(emperor.liveDescendants()).toEqual([]);
  });

  it('falls back to the stop signal when the worker made no FIFO, and logs why', async () => {
    await writeFile(
      dir.file('app.ini'),
      vassalIni({ command: fixtureCommand('stop-on-fifo'), 'stop-fifo': 'q', 'stop-signal': 'INT', 'notification-fd': 'auto', env: 'NO_FIFO=1' }),
    );
    const emperor = new EmperorProcess(['--emperor', dir.path]);
    await emperor.waitForLog((r) => r.event === 'vassal.ready');
    emperor.child.kill('SIGTERM');
    expect(await emperor.exit()).toEqual({ code: 0, signal: undefined });
    const [stop] = emperor.events('worker.stop');
    expect(stop).toMatchObject({ request: 'failed', signal: 'SIGINT' });
    expect(stop!.reason).toMatch(/\/fifo does not exist \(not created yet\)$/);
    expect(emperor.events('worker.output').map((r) => r.msg)).toContain('SIGINT: stopping');
  });

  it('tries the FIFO again while the mercy time runs, when the worker had not made it yet and the signal did nothing', async () => {
    // Like uWSGI's master stopped just after its start: no FIFO yet, and the signal (SIGTERM, ignored here) is lost.
    await writeFile(
      dir.file('app.ini'),
      vassalIni({ command: fixtureCommand('stop-on-fifo'), 'stop-fifo': 'q', 'notification-fd': 'auto', 'worker-reload-mercy': 60, env: 'FIFO_AFTER_MS=1500' }),
    );
    const emperor = new EmperorProcess(['--emperor', dir.path]);
    await emperor.waitForLog((r) => r.event === 'vassal.ready');
    expect(emperor.events('worker.output').map((r) => r.msg)).not.toContain('fifo made');
    const started = Date.now();
    emperor.child.kill('SIGTERM');
    expect(await emperor.exit(90_000)).toEqual({ code: 0, signal: undefined });
    const [stop] = emperor.events('worker.stop');
    expect(stop).toMatchObject({ request: 'failed', signal: 'SIGTERM' });
    expect(stop!.reason).toMatch(/\/fifo does not exist \(not created yet\)$/);
    expect(emperor.events('worker.stop-request')).toMatchObject([{ request: 'written', pid: stop!.pid }]);
    const messages = emperor.events('worker.output').map((r) => r.msg);
    expect(messages).toEqual(expect.arrayContaining(['ignoring SIGTERM', 'fifo made', 'read q: stopping']));
    // Stopped by the FIFO long before the 60 s mercy, not by the SIGKILL after it.
    expect(emperor.events('worker.kill')).toEqual([]);
    expect(emperor.events('worker.exit')).toMatchObject([{ code: 0 }]);
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
