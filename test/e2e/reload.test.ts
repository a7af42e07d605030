import { existsSync } from 'node:fs';
import { utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { EmperorProcess, fixtureCommand, type LogRecord } from '../support/emperor.js';
import { isAlive } from '../support/processes.js';
import { ask, pidsAnswering, serveIni } from '../support/serving.js';
import { sandbox } from '../support/sandbox.js';

const dir = sandbox();
let emperor: EmperorProcess | undefined;

const file = (name: string): string => dir.file(name);

/** Pids of the workers of `vassal` that are running now, per generation, from the log. */
function running(e: EmperorProcess, vassal: string): LogRecord[] {
  return e.events('worker.spawn', vassal).filter((r) => isAlive(r.pid as number));
}

describe('rolling reloads', () => {
  it('keeps the old generation serving when the new one never becomes ready, and reports the reload failed', async () => {
    await writeFile(file('app.ini'), serveIni('app.sock', { 'ready-timeout': 1 }));
    emperor = new EmperorProcess(['--emperor', dir.path]);
    const old = await vi.waitFor(
      async () => {
        const seen = await pidsAnswering(file('app.sock'), 20);
        expect(seen.size).toBe(2);
        return seen;
      },
      { timeout: 20_000 },
    );

    await writeFile(file('app.ini'), serveIni('app.sock', { 'ready-timeout': 1, env: 'NEVER_READY=1' }));
    const failure = await emperor.waitForLog((r) => r.event === 'vassal.reload-failed' && r.vassal === 'app.ini');
    expect(failure.generation).toBe(2);
    expect(failure.msg).toContain('never became ready');
    // The successor that failed was stopped; the incumbents never were.
    await vi.waitFor(() => expect(running(emperor!, 'app.ini').map((r) => r.generation)).toEqual([1, 1]));
    for (let i = 0; i < 10; i++) expect(old.has((await ask(file('app.sock'))).pid)).toBe(true);
    expect(emperor.events('worker.stop', 'app.ini').every((r) => r.generation === 2)).toBe(true);
  });

  it('logs the exit code and last output lines of a new generation that crashes, and keeps the old one', async () => {
    await writeFile(file('app.ini'), serveIni('app.sock', { processes: 1 }));
    emperor = new EmperorProcess(['--emperor', dir.path]);
    const [old] = await pidsAnswering(file('app.sock'), 1);

    await writeFile(file('app.ini'), serveIni('app.sock', { processes: 1, command: fixtureCommand('crash') }));
    const failure = await emperor.waitForLog((r) => r.event === 'vassal.reload-failed');
    expect(failure).toMatchObject({ generation: 2, code: 3, signal: null });
    expect(failure.output).toContain('crash fixture exiting with 3');
    expect((await ask(file('app.sock'))).pid).toBe(old);

    // The next good edit rolls again, from scratch.
    await writeFile(file('app.ini'), serveIni('app.sock', { processes: 1, env: 'GREETING=fixed' }));
    await vi.waitFor(async () => expect((await ask(file('app.sock'))).greeting).toBe('fixed'), { timeout: 20_000, interval: 50 });
    // The incumbent takes connections until the successor is ready and it has been stopped: ask once it is gone.
    await vi.waitFor(() => expect(isAlive(old!)).toBe(false), { timeout: 20_000, interval: 50 });
    expect((await ask(file('app.sock'))).generation).toBe(3);
  });

  it('replaces workers one at a time, each successor ready before its predecessor stops', async () => {
    await writeFile(file('app.ini'), serveIni('app.sock', { processes: 3 }));
    emperor = new EmperorProcess(['--emperor', dir.path]);
    await emperor.waitForLog((r) => r.event === 'vassal.ready');

    await writeFile(file('app.ini'), serveIni('app.sock', { processes: 3, env: 'GREETING=v2' }));
    await emperor.waitForLog((r) => r.event === 'vassal.reloaded' && r.generation === 2);
    // Walk the log: at no point fewer than 3 ready workers, and never more than one successor starting at once.
    let ready = 3;
    let starting = 0;
    const after = emperor.records.slice(emperor.records.findIndex((r) => r.event === 'vassal.reload'));
    for (const r of after) {
      if (r.event === 'worker.spawn') starting++;
      if (r.event === 'worker.ready') {
        starting--;
        ready++;
      }
      if (r.event === 'worker.stop') ready--;
      expect(ready).toBeGreaterThanOrEqual(3);
      expect(starting).toBeLessThanOrEqual(1);
    }
    // vassal.reloaded comes once the last old worker was told to stop; it exits a moment later.
    await vi.waitFor(() => expect(new Set(running(emperor!, 'app.ini').map((r) => r.generation))).toEqual(new Set([2])));
    expect((await ask(file('app.sock'))).greeting).toBe('v2');
  });

  it('scales 2 -> 4 -> 1 without restarting the workers that stay', async () => {
    await writeFile(file('app.ini'), serveIni('app.sock', { processes: 2 }));
    emperor = new EmperorProcess(['--emperor', dir.path]);
    await emperor.waitForLog((r) => r.event === 'vassal.ready');
    const [first, second] = emperor.events('worker.spawn', 'app.ini').map((r) => r.pid as number);

    await writeFile(file('app.ini'), serveIni('app.sock', { processes: 4 }));
    await vi.waitFor(() => expect(running(emperor!, 'app.ini')).toHaveLength(4), { timeout: 20_000 });
    expect(running(emperor, 'app.ini').map((r) => r.pid)).toEqual(expect.arrayContaining([first, second]));

    await writeFile(file('app.ini'), serveIni('app.sock', { processes: 1 }));
    await vi.waitFor(() => expect(running(emperor!, 'app.ini').map((r) => r.pid)).toEqual([first]), { timeout: 20_000 });
    // The emperor writes its log asynchronously: the workers may be gone before the record that said so is read.
    await vi.waitFor(
      () =>
        expect(emperor!.events('vassal.scale', 'app.ini').map((r) => [r.from, r.to])).toEqual([
          [2, 4],
          [4, 1],
        ]),
      { timeout: 20_000, interval: 50 },
    );
    expect(emperor.events('vassal.reload', 'app.ini')).toEqual([]);
    expect((await ask(file('app.sock'))).pid).toBe(first);
  });

  it('moves the group to a new socket address: new socket bound first, old one closed and vacuumed after the roll', async () => {
    await writeFile(file('app.ini'), serveIni('old.sock'));
    emperor = new EmperorProcess(['--emperor', dir.path]);
    await pidsAnswering(file('old.sock'), 2);

    await writeFile(file('app.ini'), serveIni('new.sock'));
    await vi.waitFor(async () => expect((await ask(file('new.sock'))).generation).toBe(2), { timeout: 20_000, interval: 50 });
    await emperor.waitForLog((r) => r.event === 'vassal.reloaded');
    await vi.waitFor(() => expect(existsSync(file('old.sock'))).toBe(false));
    const answer = await ask(file('new.sock'));
    expect(answer.fdnames).toBe(file('new.sock'));
  });

  it('reads env, command and chdir afresh on every reload, also on SIGHUP', async () => {
    await writeFile(file('app.ini'), serveIni('app.sock', { processes: 1, env: 'GREETING=one' }));
    emperor = new EmperorProcess(['--emperor', dir.path]);
    await vi.waitFor(async () => expect((await ask(file('app.sock'))).greeting).toBe('one'), { timeout: 20_000, interval: 50 });

    await writeFile(file('app.ini'), serveIni('app.sock', { processes: 1, env: 'GREETING=two' }));
    await vi.waitFor(async () => expect((await ask(file('app.sock'))).greeting).toBe('two'), { timeout: 20_000, interval: 50 });
    emperor.child.kill('SIGHUP');
    await emperor.waitForLog((r) => r.event === 'vassal.reloaded' && r.generation === 3);
    // The roll is done once generation 2 is being stopped; until it has exited it may still take a connection.
    await emperor.waitForLog((r) => r.event === 'worker.exit' && r.generation === 2);
    expect(await ask(file('app.sock'))).toMatchObject({ greeting: 'two', generation: 3 });
  });

  it('does nothing when the file is only touched, and reloads when its touch-reload file is touched', async () => {
    const stamp = file('deploy.stamp');
    await writeFile(stamp, '');
    await writeFile(file('app.ini'), serveIni('app.sock', { processes: 1, 'touch-reload': 'deploy.stamp' }));
    emperor = new EmperorProcess(['--emperor', dir.path]);
    await emperor.waitForLog((r) => r.event === 'vassal.ready');

    const later = new Date(Date.now() + 5000);
    await utimes(file('app.ini'), later, later);
    await utimes(stamp, later, later);
    const touched = await emperor.waitForLog((r) => r.event === 'vassal.touched');
    await emperor.waitForLog((r) => r.event === 'vassal.reloaded' && r.generation === 2);
    // One reload, from the stamp; touching the vassal file itself did nothing.
    expect(emperor.events('vassal.reload', 'app.ini')).toHaveLength(1);
    expect(touched.vassal).toBe('app.ini');
  });

  it("rolls every vassal when the emperor's own touch-reload file is touched", async () => {
    const stamp = file('emperor.stamp');
    await writeFile(stamp, '');
    for (const name of ['a', 'b']) await writeFile(file(`${name}.ini`), serveIni(`${name}.sock`, { processes: 1 }));
    emperor = new EmperorProcess(['--emperor', dir.path, '--touch-reload', stamp]);
    await vi.waitFor(() => expect(emperor!.events('vassal.ready')).toHaveLength(2), { timeout: 20_000 });
    const later = new Date(Date.now() + 5000);
    await utimes(stamp, later, later);
    await emperor.waitForLog((r) => r.event === 'emperor.touched');
    await vi.waitFor(() => expect(emperor!.events('vassal.reloaded').map((r) => r.vassal).sort()).toEqual(['a.ini', 'b.ini']), { timeout: 20_000 });
  });

  it('rolls every vassal on SIGHUP, at most emperor-reload-concurrency at a time', async () => {
    for (const name of ['a', 'b', 'c']) await writeFile(file(`${name}.ini`), serveIni(`${name}.sock`, { processes: 1 }));
    emperor = new EmperorProcess(['--emperor', dir.path, '--emperor-reload-concurrency', '1']);
    await vi.waitFor(() => expect(emperor!.events('vassal.ready')).toHaveLength(3), { timeout: 20_000 });

    emperor.child.kill('SIGHUP');
    await vi.waitFor(() => expect(emperor!.events('vassal.reloaded')).toHaveLength(3), { timeout: 30_000 });
    const order = emperor.records.filter((r) => r.event === 'vassal.reload' || r.event === 'vassal.reloaded').map((r) => `${r.event}:${r.vassal}`);
    // One at a time: each roll completes before the next begins.
    for (let i = 0; i < order.length; i += 2) {
      expect(order[i]?.split(':')[1]).toBe(order[i + 1]?.split(':')[1]);
      expect(order[i]?.startsWith('vassal.reload:')).toBe(true);
    }
  });
});

describe('a stop during a SIGHUP reload', () => {
  it('does not wait for the rolls: a successor that is never ready is stopped with the rest, well before its ready-timeout', async () => {
    const marker = file('successors-hang');
    // Once the marker exists, a new worker never says it is ready (sleep writes nothing on the notification fd).
    const command = `/bin/sh -c 'if [ -e ${marker} ]; then exec sleep 3600; fi; exec ${fixtureCommand('serve-on-fd3')}'`;
    await writeFile(file('app.ini'), serveIni('app.sock', { command, processes: 1, 'ready-timeout': 120 }));
    const emperor = new EmperorProcess(['--emperor', dir.path]);
    await emperor.waitForLog((r) => r.event === 'vassal.ready');
    await writeFile(marker, '');
    emperor.child.kill('SIGHUP');
    // The successor is up, and will not be ready for 120 s.
    await vi.waitFor(() => expect(emperor.spawnedPids('app.ini')).toHaveLength(2), { timeout: 30_000 });
    const stoppedAt = Date.now();
    emperor.child.kill('SIGTERM');
    expect(await emperor.exit(60_000)).toEqual({ code: 0, signal: undefined });
    // The stop's own mercy (10 s by default) at most, not the reload's 120 s.
    expect(Date.now() - stoppedAt).toBeLessThan(40_000);
    for (const pid of emperor.spawnedPids('app.ini')) expect(isAlive(pid)).toBe(false);
  });
});
