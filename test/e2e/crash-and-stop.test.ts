import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { EmperorProcess, fixtureCommand, vassalIni } from '../support/emperor.js';
import { get } from '../support/http.js';
import { isAlive } from '../support/processes.js';
import { ask, pidsAnswering, serveIni } from '../support/serving.js';
import { sandbox } from '../support/sandbox.js';
import { sleeperIni } from '../support/vassal-dir.js';

const dir = sandbox();
const file = (name: string): string => dir.file(name);
const start = (args: string[] = []): EmperorProcess => new EmperorProcess(['--emperor', dir.path, ...args]);

describe('crashes', () => {
  it('replaces a worker killed with SIGKILL at once', async () => {
    await writeFile(file('app.ini'), serveIni('app.sock', { processes: 2 }));
    const emperor = start();
    await emperor.waitForLog((r) => r.event === 'vassal.ready');
    const [victim] = emperor.spawnedPids('app.ini');
    process.kill(victim!, 'SIGKILL');
    const died = await emperor.waitForLog((r) => r.event === 'worker.died');
    expect(died).toMatchObject({ signal: 'SIGKILL', restartInMs: 0, failures: 1 });
    await vi.waitFor(() => expect(emperor.events('worker.ready', 'app.ini')).toHaveLength(3), { timeout: 20_000 });
  });

  it('is no crash loop when a worker that served for healthy-after (1 s by default) is killed: the same slot is replaced at once every time', async () => {
    await writeFile(file('app.ini'), sleeperIni());
    const emperor = start();
    for (let kill = 1; kill <= 3; kill++) {
      await vi.waitFor(() => expect(emperor.events('worker.ready', 'app.ini')).toHaveLength(kill), { timeout: 20_000, interval: 20 });
      const readyAt = Date.now();
      const victim = emperor.spawnedPids('app.ini').at(-1)!;
      // The condition is the worker's time since ready (as the emperor counts it, from before our readyAt).
      await vi.waitFor(() => expect(Date.now() - readyAt).toBeGreaterThanOrEqual(1200), { timeout: 5000, interval: 50 });
      process.kill(victim, 'SIGKILL');
      await vi.waitFor(() => expect(emperor.events('worker.died', 'app.ini')).toHaveLength(kill), { timeout: 20_000, interval: 20 });
    }
    expect(emperor.events('worker.died', 'app.ini').map((r) => [r.restartInMs, r.failures])).toEqual([
      [0, 1],
      [0, 1],
      [0, 1],
    ]);
  });

  it('backs off a crash loop exponentially, without blocking other vassals, and recovers once the file is fixed', async () => {
    await writeFile(
      file('loop.ini'),
      vassalIni({ command: fixtureCommand('crash'), 'restart-delay': 0.1, 'restart-delay-max': 0.4, 'ready-after': 5 }),
    );
    const emperor = start();
    await vi.waitFor(() => expect(emperor.events('worker.died', 'loop.ini').length).toBeGreaterThanOrEqual(5), { timeout: 20_000 });
    const delays = emperor.events('worker.died', 'loop.ini').map((r) => r.restartInMs);
    expect(delays.slice(0, 5)).toEqual([0, 100, 200, 400, 400]);
    expect(emperor.events('worker.died', 'loop.ini')[1]?.output).toContain('crash fixture exiting with 3');

    // The emperor stays responsive meanwhile: another vassal starts and serves.
    await writeFile(file('other.ini'), serveIni('other.sock', { processes: 1 }));
    await pidsAnswering(file('other.sock'), 1);

    await writeFile(file('loop.ini'), serveIni('loop.sock', { processes: 1 }));
    const answer = await vi.waitFor(() => ask(file('loop.sock')), { timeout: 20_000, interval: 50 });
    expect(answer.generation).toBe(2);
    const diedBefore = emperor.events('worker.died', 'loop.ini').length;
    await emperor.waitForLog((r) => r.event === 'vassal.reloaded' && r.vassal === 'loop.ini');
    expect(emperor.events('worker.died', 'loop.ini').length).toBeLessThanOrEqual(diedBefore + 1);
  });
});

describe('vassals that cannot start', () => {
  it('retries a vassal whose socket is taken, backing off, and starts it once the port is free', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    await writeFile(file('tcp.ini'), vassalIni({ command: fixtureCommand('serve-on-fd3'), socket: `127.0.0.1:${port}`, 'notification-fd': 'auto' }));
    const emperor = start();
    await vi.waitFor(() => expect(emperor.events('vassal.start-failed').length).toBeGreaterThanOrEqual(2), { timeout: 20_000 });
    const [first, second] = emperor.events('vassal.start-failed');
    expect(first?.msg).toContain('EADDRINUSE');
    expect([first?.retryInMs, second?.retryInMs]).toEqual([1000, 2000]);

    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    // The answer must come from this emperor's worker: once the blocker is closed, a parallel test may be given the
    // same ephemeral port for a moment.
    const answer = await vi.waitFor(
      async () => {
        const got = await get({ host: '127.0.0.1', port });
        expect(emperor.spawnedPids()).toContain((JSON.parse(got.body) as { pid: number }).pid);
        return got;
      },
      { timeout: 20_000, interval: 100 },
    );
    expect(answer.status).toBe(200);
    expect(emperor.events('vassal.start', 'tcp.ini').length).toBeGreaterThanOrEqual(1);
  });
});

describe('stopping', () => {
  it('kills grandchildren that ignore SIGTERM: SIGKILL to the process group after the mercy time', async () => {
    await writeFile(file('stubborn.ini'), vassalIni({ command: fixtureCommand('ignore-sigterm'), env: 'GRANDCHILD=1', 'worker-reload-mercy': 0.5 }));
    const emperor = start();
    const line = await emperor.waitForLog((r) => r.event === 'worker.output' && r.msg.startsWith('grandchild '));
    const grandchild = Number(line.msg.split(' ')[1]);
    const [worker] = emperor.spawnedPids('stubborn.ini');
    expect(isAlive(grandchild)).toBe(true);

    await rm(file('stubborn.ini'));
    const killed = await emperor.waitForLog((r) => r.event === 'worker.kill');
    expect(killed.mercyMs).toBe(500);
    await emperor.waitForLog((r) => r.event === 'vassal.stopped');
    expect(isAlive(worker!)).toBe(false);
    expect(isAlive(grandchild)).toBe(false);
    expect(emperor.liveDescendants()).toEqual([]);
  });

  it('leaves no worker alive when the emperor is SIGKILLed, and a restart sweeps what is left and serves again', async () => {
    await writeFile(file('app.ini'), serveIni('app.sock', { processes: 2, vacuum: false }));
    await writeFile(file('family.ini'), vassalIni({ command: fixtureCommand('ignore-sigterm'), env: 'GRANDCHILD=1' }));
    const first = start();
    await pidsAnswering(file('app.sock'), 2);
    const line = await first.waitForLog((r) => r.event === 'worker.output' && r.msg.startsWith('grandchild '));
    const grandchild = Number(line.msg.split(' ')[1]);
    const workers = first.spawnedPids();

    first.child.kill('SIGKILL');
    // The kernel delivers the parent-death signal: every worker dies with the emperor.
    await vi.waitFor(() => expect(workers.filter(isAlive)).toEqual([]), { timeout: 5_000 });
    // A grandchild has no parent-death signal of its own; it outlives this emperor, holding the sockets it inherited.
    expect(isAlive(grandchild)).toBe(true);
    expect(existsSync(file('app.sock'))).toBe(true);

    const second = start();
    const swept = await second.waitForLog((r) => r.event === 'emperor.orphans');
    expect((swept.orphans as { pid: number }[]).map((o) => o.pid)).toContain(grandchild);
    await vi.waitFor(() => expect(isAlive(grandchild)).toBe(false));
    // The socket file the killed emperor left behind is re-bound, and the group serves again.
    const pids = await pidsAnswering(file('app.sock'), 4);
    // A worker can answer before its spawn record has come through the emperor's log pipe: wait for the records.
    await vi.waitFor(() => expect([...pids].filter((pid) => !second.spawnedPids('app.ini').includes(pid))).toEqual([]));
  });

  it('with die-on-term = false, SIGTERM reloads (uWSGI 2.0) and SIGINT still stops', async () => {
    await writeFile(file('app.ini'), serveIni('app.sock', { processes: 1 }));
    const emperor = start(['--die-on-term=false']);
    await emperor.waitForLog((r) => r.event === 'vassal.ready');
    emperor.child.kill('SIGTERM');
    await emperor.waitForLog((r) => r.event === 'vassal.reloaded' && r.generation === 2);
    expect(isAlive(emperor.pid)).toBe(true);
    emperor.child.kill('SIGINT');
    expect((await emperor.exit()).code).toBe(0);
    expect(emperor.liveDescendants()).toEqual([]);
  });
});
