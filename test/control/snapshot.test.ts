import { describe, expect, it } from 'vitest';
import { buildSnapshot, vassalState } from '../../src/control/snapshot.js';
import { emperor, file, sample, slot, T0, table, vassal, worker } from './facts.js';

describe('vassal state', () => {
  const now = T0 + 60_000;

  it('is running when every worker of its generation serves', () => {
    expect(vassalState(file(vassal('a.ini')), now)).toBe('running');
  });

  it('is starting while its first generation rolls, reloading while a later one does', () => {
    expect(vassalState(file(vassal('a.ini', { rolling: true })), now)).toBe('starting');
    expect(vassalState(file(vassal('a.ini', { rolling: true, generation: 3 })), now)).toBe('reloading');
    // Its sockets are being bound: no vassal yet.
    expect(vassalState(file(undefined, { starting: true }), now)).toBe('starting');
  });

  it('is backoff while a worker slot waits out a crash loop, even during its first start', () => {
    const waiting = vassal('a.ini', { rolling: true, workers: [worker(1, 101)], slots: [slot(1), slot(2, { retryAt: now + 4000, failures: 3 })] });
    expect(vassalState(file(waiting), now)).toBe('backoff');
    // The wait is over (a start is due): not backoff any more.
    expect(vassalState(file(waiting), now + 5000)).toBe('starting');
  });

  it('is stopping when its file went or it stops, failed when nothing runs', () => {
    expect(vassalState(file(vassal('a.ini'), { retiring: true }), now)).toBe('stopping');
    expect(vassalState(file(vassal('a.ini', { stopping: true })), now)).toBe('stopping');
    expect(vassalState(file(undefined, { configError: { at: now, errors: [{ file: '/etc/vassals/a.ini', line: 3, message: 'bad' }] } }), now)).toBe('failed');
  });

  it('stays running after a failed reload: the previous generation serves', () => {
    expect(vassalState(file(vassal('a.ini', { generation: 2, rollBlocked: true })), now)).toBe('running');
  });
});

describe('buildSnapshot', () => {
  const now = T0 + 90_000;

  it('gives the emperor, and per vassal its counts, config hashes, workers with their figures, sockets as they are', () => {
    const v = vassal('app.ini', {
      sockets: [
        { name: '/srv/app.sock', kind: 'unix', mode: 0o660, owner: 'www:web' },
        { name: '127.0.0.1:8000', kind: 'tcp' },
      ],
    });
    // Worker 101 leads its group with a child 201; worker 102 alone; the emperor is pid 1.
    const processes = table([
      [1, 1, 1000, 250],
      [101, 101, 2560, 150, 50],
      [201, 101, 512, 30],
      [102, 102, 2560, 100],
      [999, 999, 1, 1],
    ]);
    const socketFiles = new Map([['/srv/app.sock', { mode: 0o140660, uid: 0, gid: 33, isSocket: true }]]);
    const snapshot = buildSnapshot(emperor([file(v)]), sample(now, processes, socketFiles));
    expect(snapshot.format).toBe(1);
    expect(snapshot.emperor).toMatchObject({ pid: 1, version: '0.1.0', uptimeSeconds: 90, sources: ['/etc/vassals'], rssBytes: 1000 * 4096, cpuSeconds: 2.5 });
    const [status] = snapshot.vassals;
    expect(status).toMatchObject({
      name: 'app.ini',
      state: 'running',
      generation: 1,
      configHash: 'a'.repeat(64),
      runningConfigHash: 'a'.repeat(64),
      processes: 2,
      ready: 2,
      restarts: 0,
      uptimeSeconds: 90,
      startedAt: '2026-01-01T00:00:00.000Z',
    });
    expect(status?.lastError).toBeUndefined();
    expect(status?.sockets).toEqual([
      { address: '/srv/app.sock', kind: 'unix', configuredMode: '0660', configuredOwner: 'www:web', mode: '0660', uid: 0, gid: 33 },
      { address: '127.0.0.1:8000', kind: 'tcp' },
    ]);
    expect(status?.workers[0]).toMatchObject({
      id: 1,
      pid: 101,
      state: 'ready',
      readySince: '2026-01-01T00:00:00.500Z',
      rssBytes: 2560 * 4096,
      cpuSeconds: 1.5,
      // Itself, its child, and the children it reaped.
      group: { processes: 2, rssBytes: (2560 + 512) * 4096, cpuSeconds: 2.3 },
    });
    expect(status?.rssBytes).toBe((2560 + 512 + 2560) * 4096);
    expect(status?.cpuSeconds).toBe(3.3);
  });

  it('after a crash: the restart, the last exit and the last error name the worker and how it ended', () => {
    const v = vassal('app.ini', {
      workers: [worker(1, 101), worker(2, 103, { startedAt: T0 + 80_000, readyAt: T0 + 81_000 })],
      slots: [slot(1), slot(2, { restarts: 1, failures: 1, lastExit: { at: T0 + 80_000, pid: 102, code: null, signal: 'SIGKILL', requested: false, wasReady: true } })],
    });
    const [status] = buildSnapshot(emperor([file(v)]), sample(now)).vassals;
    expect(status).toMatchObject({ state: 'running', restarts: 1, ready: 2 });
    expect(status?.workers[1]).toMatchObject({ id: 2, pid: 103, restarts: 1, lastExit: { pid: 102, signal: 'SIGKILL', requested: false, description: 'signal SIGKILL' } });
    expect(status?.lastError).toEqual({ at: '2026-01-01T00:01:20.000Z', kind: 'crash', message: 'worker 2 signal SIGKILL' });
  });

  it('during backoff: the waiting worker has no pid and a next start; the last error says when', () => {
    const v = vassal('app.ini', {
      rolling: true,
      workers: [worker(1, 101)],
      slots: [slot(1), slot(2, { restarts: 4, failures: 4, retryAt: now + 3500, lastExit: { at: now - 500, pid: 105, code: 3, signal: null, requested: false, wasReady: false } })],
    });
    const [status] = buildSnapshot(emperor([file(v)]), sample(now)).vassals;
    expect(status?.state).toBe('backoff');
    expect(status?.workers[1]).toEqual({
      id: 2,
      pid: null,
      generation: null,
      state: 'backoff',
      restarts: 4,
      failuresInARow: 4,
      lastExit: { at: new Date(now - 500).toISOString(), pid: 105, code: 3, signal: null, requested: false, wasReady: false, description: 'exit code 3' },
      nextStartAt: new Date(now + 3500).toISOString(),
      rssBytes: null,
      cpuSeconds: null,
      group: null,
    });
    expect(status?.lastError?.message).toBe('worker 2 exit code 3, 4 failures in a row; next start in 4 s');
  });

  it('after a failed reload: running the previous generation, with the failure, the successor\'s output and the count', () => {
    const v = vassal('app.ini', {
      generation: 2,
      rollBlocked: true,
      reloads: 1,
      reloadFailures: 1,
      lastReload: { generation: 2, result: 'failed', startedAt: now - 3000, endedAt: now - 2000, error: 'worker 1 exit code 3', output: ['boom'] },
    });
    const [status] = buildSnapshot(emperor([file(v)]), sample(now)).vassals;
    expect(status).toMatchObject({
      state: 'running',
      generation: 2,
      reloads: 1,
      reloadFailures: 1,
      lastReload: { generation: 2, result: 'failed', error: 'worker 1 exit code 3', output: ['boom'] },
      lastError: { kind: 'reload', message: 'reload to generation 2 failed: worker 1 exit code 3' },
    });
  });

  it('a config error comes first, at file:line, with how many more; a running version keeps its hash', () => {
    const configError = {
      at: now - 1000,
      errors: [
        { file: '/etc/vassals/app.ini', line: 4, message: 'invalid value for processes: expected an integer' },
        { file: '/etc/vassals/app.ini', line: 9, message: 'unknown option' },
      ],
    };
    const [status] = buildSnapshot(emperor([file(vassal('app.ini'), { configError, hash: 'b'.repeat(64) })]), sample(now)).vassals;
    expect(status).toMatchObject({
      state: 'running',
      configHash: 'b'.repeat(64),
      runningConfigHash: 'a'.repeat(64),
      lastError: { kind: 'config', file: '/etc/vassals/app.ini', line: 4, message: '/etc/vassals/app.ini:4: invalid value for processes: expected an integer (and 1 more)' },
      configErrors: configError.errors,
    });
  });

  it('a vassal that cannot start is failed, with the reason and the next try', () => {
    const f = file(undefined, { startError: { at: now - 100, message: 'socket 127.0.0.1:80: address in use', failures: 2, retryAt: now + 2000 } }, 'web.ini');
    const [status] = buildSnapshot(emperor([f]), sample(now)).vassals;
    expect(status).toMatchObject({ state: 'failed', processes: 0, ready: 0, workers: [], lastError: { kind: 'start', message: 'cannot start: socket 127.0.0.1:80: address in use' } });
    expect(status?.nextTryAt).toBe(new Date(now + 2000).toISOString());
  });

  it('a socket file gone or replaced is reported as a problem', () => {
    const v = vassal('app.ini', { sockets: [{ name: '/srv/a.sock', kind: 'unix' }, { name: '/srv/b.sock', kind: 'unix' }] });
    const files = new Map([
      ['/srv/a.sock', { error: 'the socket file is missing' }],
      ['/srv/b.sock', { mode: 0o100644, uid: 0, gid: 0, isSocket: false }],
    ]);
    const [status] = buildSnapshot(emperor([file(v)]), sample(now, table([]), files)).vassals;
    expect(status?.sockets.map((s) => s.problem)).toEqual(['the socket file is missing', 'the path is no longer a socket']);
  });

  it('lists a roll\'s incumbent and successor under one worker id; vassals by name', () => {
    const v = vassal('b.ini', {
      generation: 2,
      rolling: true,
      processes: 1,
      workers: [worker(1, 101, { phase: 'ready' }), worker(1, 111, { generation: 2, phase: 'starting', readyAt: undefined })],
      slots: [slot(1)],
    });
    const snapshot = buildSnapshot(emperor([file(v), file(vassal('a.ini'))]), sample(now));
    expect(snapshot.vassals.map((s) => s.name)).toEqual(['a.ini', 'b.ini']);
    expect(snapshot.vassals[1]?.state).toBe('reloading');
    expect(snapshot.vassals[1]?.workers.map((w) => [w.id, w.pid, w.generation, w.state])).toEqual([
      [1, 101, 1, 'ready'],
      [1, 111, 2, 'starting'],
    ]);
  });

  it('gives null figures for a worker whose process is gone (or a zombie)', () => {
    const zombie = table([[102, 102, 0, 5]], { state: 'Z' });
    const [status] = buildSnapshot(emperor([file(vassal('a.ini'))]), sample(now, zombie)).vassals;
    expect(status?.workers.map((w) => [w.rssBytes, w.cpuSeconds, w.group])).toEqual([
      [null, null, null],
      [null, null, null],
    ]);
  });
});
