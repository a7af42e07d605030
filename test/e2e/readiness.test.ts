import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EmperorProcess, FIXTURES, fixtureCommand, NODE, vassalIni } from '../support/emperor.js';
import { get } from '../support/http.js';
import { sandbox } from '../support/sandbox.js';
import { cpuHogs, TASKSET, type CpuHogs } from '../support/cpu-hogs.js';

const dir = sandbox();
let emperor: EmperorProcess | undefined;

let hogs: CpuHogs | undefined;

afterEach(async () => {
  await hogs?.stop();
  hogs = undefined;
});

const file = (name: string): string => dir.file(name);
const PYTHON = ['/usr/bin/python3', '/usr/local/bin/python3'].find((p) => existsSync(p));
const UWSGI = ['/usr/bin/uwsgi', '/usr/local/bin/uwsgi'].find((p) => existsSync(p));
const uwsgiSkip = !UWSGI && process.env.CI !== 'true' ? ' [SKIPPED: uwsgi is not installed; apt-get install uwsgi uwsgi-plugin-python3]' : '';

describe('readiness', () => {
  it.skipIf(!PYTHON)('counts a worker ready when it sends READY=1 on NOTIFY_SOCKET (systemd protocol), not before', async () => {
    await writeFile(file('py.ini'), vassalIni({ command: `${PYTHON} ${FIXTURES}workers/notify-ready.py`, 'notify-socket': 'true', env: 'READY_DELAY=0.5' }));
    emperor = new EmperorProcess(['--emperor', dir.path]);
    const ready = await emperor.waitForLog((r) => r.event === 'worker.ready');
    expect(ready.afterMs as number).toBeGreaterThanOrEqual(500);
    const statuses = emperor.events('worker.status').map((r) => r.status);
    expect(statuses).toEqual(['warming up', 'serving']);
    const readyAt = emperor.records.indexOf(ready);
    expect(emperor.records.findIndex((r) => r.event === 'worker.status' && r.status === 'serving')).toBeLessThan(readyAt);
  });

  it('fails a worker that is not ready within ready-timeout, stops it, and retries with backoff', async () => {
    await writeFile(
      file('slow.ini'),
      vassalIni({ command: fixtureCommand('forever'), 'notification-fd': 'auto', 'ready-timeout': 0.5, 'restart-delay': 0.2, 'worker-reload-mercy': 1 }),
    );
    emperor = new EmperorProcess(['--emperor', dir.path]);
    await vi.waitFor(() => expect(emperor!.events('worker.died').length).toBeGreaterThanOrEqual(2), { timeout: 20_000 });
    expect(emperor.events('worker.ready-timeout').length).toBeGreaterThanOrEqual(2);
    expect(emperor.events('worker.died').map((r) => r.restartInMs).slice(0, 2)).toEqual([0, 200]);
    expect(emperor.events('worker.ready')).toEqual([]);
  });

  it('does not count the time a starting worker waits for a CPU: one crowded onto a busy CPU is ready late, not killed', async () => {
    // Eight busy loops on CPU 0 leave a worker pinned there about 1/9 of it: its 0.4 s of CPU to ready take some
    // 4 s on the wall, far past the 1.5 s ready-timeout, nearly all of it in the run queue.
    hogs = cpuHogs(8, 0);
    await writeFile(
      file('crowded.ini'),
      vassalIni({ command: `${TASKSET} -c 0 ${NODE} ${FIXTURES}workers/burn-then-ready.mjs`, env: 'BURN_MS=400', 'notification-fd': 'auto', 'ready-timeout': 1.5 }),
    );
    emperor = new EmperorProcess(['--emperor', dir.path]);
    const ready = await emperor.waitForLog((r) => r.event === 'worker.ready', 60_000);
    expect(ready.afterMs as number).toBeGreaterThan(1500);
    expect(emperor.events('worker.ready-timeout')).toEqual([]);
    expect(emperor.events('worker.spawn')).toHaveLength(1);
  });

  it.skipIf(Boolean(uwsgiSkip))(`runs a real uWSGI as a worker: socket activation on fd 3, READY=1 on NOTIFY_SOCKET${uwsgiSkip}`, async () => {
    await writeFile(
      file('app.py'),
      ['import os', 'def application(env, start_response):', "    start_response('200 OK', [('Content-Type', 'text/plain')])", "    return [b'uwsgi %d' % os.getpid()]", ''].join('\n'),
    );
    await writeFile(
      file('uwsgi.ini'),
      vassalIni({
        // uWSGI 2.0 treats SIGTERM as "reload": --die-on-term makes it stop, as a worker must.
        command: `${UWSGI} --plugin python3 --wsgi-file app.py --protocol http --master --processes 2 --die-on-term`,
        socket: 'uwsgi.sock',
        'notify-socket': 'true',
        // uWSGI's master stops its own workers; a SIGTERM to them as well makes them reload instead (systemd's
        // advice for uWSGI is the same: signal the main process).
        'kill-mode': 'mixed',
        'ready-timeout': 30,
      }),
    );
    emperor = new EmperorProcess(['--emperor', dir.path]);
    await emperor.waitForLog((r) => r.event === 'worker.ready', 30_000);
    expect(emperor.events('worker.status').map((r) => r.status)).toContain('uWSGI is ready');
    // Its output comes on a pipe, its readiness on the notify socket: the line may be read after the READY=1.
    await emperor.waitForLog((r) => r.event === 'worker.output' && r.msg.includes('SystemD socket activation detected'), 10_000);
    const answer = await get({ socketPath: file('uwsgi.sock') });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatch(/^uwsgi \d+$/);
    // uWSGI says READY=1 before it forks its workers, and a worker signalled while still initialising can miss its
    // master's SIGINT (the master then waits out its own 60 s mercy). Stop only once both workers have served.
    await vi.waitFor(
      async () => {
        const pids = new Set<string>();
        for (let i = 0; i < 20; i++) pids.add((await get({ socketPath: file('uwsgi.sock') })).body);
        expect(pids.size).toBe(2);
      },
      { timeout: 20_000 },
    );

    emperor.child.kill('SIGTERM');
    expect(await emperor.exit()).toEqual({ code: 0, signal: undefined });
    expect(emperor.events('worker.kill')).toEqual([]);
    expect(emperor.liveDescendants()).toEqual([]);
  });
});
