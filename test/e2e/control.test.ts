import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { describe, expect, it, vi } from 'vitest';
import type { Snapshot, VassalStatus } from '../../src/control/snapshot.js';
import { ask } from '../support/control.js';
import { logEvents, waitForEvents } from '../support/daemon.js';
import { EmperorProcess, fixtureCommand, vassalIni } from '../support/emperor.js';
import { sandbox } from '../support/sandbox.js';

const dir = sandbox('svc');

/** An emperor on the sandbox's vassals/ with its control socket in the sandbox. */
async function emperorWith(files: Record<string, string>, extra: string[] = []): Promise<{ emperor: EmperorProcess; socket: string; vassals: string }> {
  const vassals = dir.file('vassals');
  await mkdir(vassals);
  for (const [name, text] of Object.entries(files)) await writeFile(`${vassals}/${name}`, text);
  const socket = dir.file('control.sock');
  const emperor = new EmperorProcess(['--emperor', vassals, '--control-socket', socket, ...extra]);
  await emperor.waitForLog((r) => r.event === 'control.listening');
  return { emperor, socket, vassals };
}

async function status(socket: string): Promise<Snapshot> {
  const [answer] = await ask(socket, { command: 'status' });
  expect(answer?.ok).toBe(true);
  return answer?.snapshot as Snapshot;
}

async function vassalStatus(socket: string, name: string): Promise<VassalStatus> {
  const found = (await status(socket)).vassals.find((v) => v.name === name);
  if (!found) throw new Error(`no vassal ${name} in the status`);
  return found;
}

const sleeper = (extra: Record<string, string | number> = {}): string => vassalIni({ command: fixtureCommand('forever'), processes: 2, 'ready-after': 0.2, ...extra });

describe('the status snapshot', () => {
  it('after start: the emperor, and per vassal its state, generation, config hash, sockets as they are, workers with pids and memory', async () => {
    const text = sleeper({ socket: dir.file('app.sock'), 'chmod-socket': 660 });
    const { emperor, socket, vassals } = await emperorWith({ 'app.ini': text });
    await emperor.waitForLog((r) => r.event === 'vassal.ready');
    const snapshot = await status(socket);
    expect(snapshot.emperor).toMatchObject({ pid: emperor.pid, sources: [vassals], tyrant: false, stopping: false });
    expect(snapshot.emperor.rssBytes).toBeGreaterThan(10 << 20);
    const [app] = snapshot.vassals;
    expect(app).toMatchObject({
      name: 'app.ini',
      file: `${vassals}/app.ini`,
      state: 'running',
      generation: 1,
      processes: 2,
      ready: 2,
      restarts: 0,
      configHash: createHash('sha256').update(text).digest('hex'),
      sockets: [{ address: dir.file('app.sock'), kind: 'unix', mode: '0660', configuredMode: '0660', uid: 0, gid: 0 }],
    });
    expect(app?.lastError).toBeUndefined();
    expect(app?.workers.map((w) => w.pid).sort()).toEqual(emperor.spawnedPids('app.ini').sort());
    for (const w of app?.workers ?? []) {
      expect(w).toMatchObject({ state: 'ready', generation: 1, restarts: 0 });
      expect(w.rssBytes).toBeGreaterThan(1 << 20);
      expect(w.group?.processes).toBe(1);
      expect(w.group?.rssBytes).toBe(w.rssBytes);
    }
  });

  it('after a crash: the restart, the exit and the last error; during backoff: the waiting worker and its next start', async () => {
    const { emperor, socket } = await emperorWith({
      'app.ini': sleeper(),
      'loop.ini': vassalIni({ command: fixtureCommand('crash'), 'restart-delay': 30, 'restart-delay-max': 30 }),
    });
    await emperor.waitForLog((r) => r.event === 'vassal.ready' && r.vassal === 'app.ini');
    const [victim] = emperor.spawnedPids('app.ini');
    process.kill(victim!, 'SIGKILL');
    const app = await vi.waitFor(
      async () => {
        const v = await vassalStatus(socket, 'app.ini');
        expect(v.ready).toBe(2);
        expect(v.restarts).toBe(1);
        return v;
      },
      { timeout: 20_000, interval: 100 },
    );
    expect(app.state).toBe('running');
    const restarted = app.workers.find((w) => w.lastExit !== undefined);
    expect(restarted?.lastExit).toMatchObject({ pid: victim, signal: 'SIGKILL', code: null, requested: false, wasReady: true, description: 'signal SIGKILL' });
    expect(restarted?.restarts).toBe(1);
    expect(app.lastError).toMatchObject({ kind: 'crash', message: `worker ${restarted?.id} signal SIGKILL` });

    // The crash loop: the first exit restarts at once, the second waits restart-delay.
    const loop = await vi.waitFor(
      async () => {
        const v = await vassalStatus(socket, 'loop.ini');
        expect(v.state).toBe('backoff');
        return v;
      },
      { timeout: 20_000, interval: 100 },
    );
    expect(loop.workers).toEqual([expect.objectContaining({ id: 1, pid: null, state: 'backoff', failuresInARow: 2, restarts: 2, lastExit: expect.objectContaining({ code: 3, wasReady: false }) })]);
    expect(Date.parse(loop.workers[0]!.nextStartAt!) - Date.now()).toBeGreaterThan(20_000);
    expect(loop.lastError?.message).toMatch(/^worker 1 exit code 3, 2 failures in a row; next start in \d+ s$/);
  });

  it('after a failed reload: the previous generation serves, the failure and the count are there; a config error is at file:line', async () => {
    const { emperor, socket, vassals } = await emperorWith({ 'app.ini': sleeper() });
    await emperor.waitForLog((r) => r.event === 'vassal.ready');
    // It crashes before it counts as ready (Node's start alone takes longer than 0.2 s here).
    await writeFile(`${vassals}/app.ini`, vassalIni({ command: fixtureCommand('crash'), processes: 2, 'ready-after': 5 }));
    await emperor.waitForLog((r) => r.event === 'vassal.reload-failed');
    const app = await vassalStatus(socket, 'app.ini');
    expect(app).toMatchObject({
      state: 'running',
      generation: 2,
      ready: 2,
      reloads: 1,
      reloadFailures: 1,
      lastReload: { generation: 2, result: 'failed', error: 'worker 1 exit code 3' },
      lastError: { kind: 'reload', message: 'reload to generation 2 failed: worker 1 exit code 3' },
    });
    expect(app.lastReload?.output).toEqual(['crash fixture exiting with 3']);
    expect(app.workers.every((w) => w.generation === 1 && w.state === 'ready')).toBe(true);

    await writeFile(`${vassals}/app.ini`, '[uwsgi]\ncommand = sleep 1\nprocesses = many\n');
    const broken = await vi.waitFor(
      async () => {
        const v = await vassalStatus(socket, 'app.ini');
        expect(v.lastError?.kind).toBe('config');
        return v;
      },
      { timeout: 20_000, interval: 100 },
    );
    expect(broken.configErrors).toEqual([{ file: `${vassals}/app.ini`, line: 3, message: expect.stringContaining('processes') }]);
    expect(broken.lastError?.message).toMatch(new RegExp(`^${vassals}/app.ini:3: `));
    expect(broken.state).toBe('running');
    expect(broken.runningConfigHash).not.toBe(broken.configHash);
  });
});

describe('the safety-net rescan', () => {
  it('backs off while nothing happens (the snapshot shows it), is back at 3 s after a file event, and stays as written when emperor-freq is', async () => {
    const { emperor, socket, vassals } = await emperorWith({ 'a.ini': sleeper() });
    expect((await status(socket)).emperor).toMatchObject({ rescanSeconds: 3, rescanMaxSeconds: 30 });
    // A quiet rescan (3 s after the start) doubles it.
    await vi.waitFor(async () => expect((await status(socket)).emperor.rescanSeconds).toBe(6), { timeout: 30_000, interval: 200 });
    // A file event: the rescan after it is at the base again.
    await writeFile(`${vassals}/b.ini`, sleeper());
    await vi.waitFor(() => expect(emperor.events('vassal.ready')).toHaveLength(2), { timeout: 30_000 });
    await vi.waitFor(async () => expect((await status(socket)).emperor.rescanSeconds).toBe(3), { timeout: 30_000, interval: 200 });
    emperor.child.kill('SIGTERM');
    expect((await emperor.exit()).code).toBe(0);

    const fixed = new EmperorProcess(['--emperor', vassals, '--control-socket', socket, '--emperor-freq', '0.2']);
    await fixed.waitForLog((r) => r.event === 'control.listening');
    await vi.waitFor(() => expect(fixed.events('vassal.ready')).toHaveLength(2), { timeout: 30_000 });
    // After several quiet rescans (each one the last sync when it ends): still every 0.2 s.
    const rescans = new Set<string>();
    await vi.waitFor(
      async () => {
        const { lastSync, rescanSeconds, rescanMaxSeconds } = (await status(socket)).emperor;
        expect({ rescanSeconds, rescanMaxSeconds }).toEqual({ rescanSeconds: 0.2, rescanMaxSeconds: 0.2 });
        if (lastSync?.trigger === 'rescan') rescans.add(lastSync.at);
        expect(rescans.size).toBeGreaterThanOrEqual(4);
      },
      { timeout: 30_000, interval: 100 },
    );
    fixed.child.kill('SIGTERM');
    expect((await fixed.exit()).code).toBe(0);
  });
});

describe('commands over the control socket', () => {
  it('reload: one vassal or all, answering once the new generation is ready; a reload that fails says why', async () => {
    const { emperor, socket, vassals } = await emperorWith({ 'a.ini': sleeper(), 'b.ini': sleeper({ processes: 1 }) });
    await vi.waitFor(() => expect(emperor.events('vassal.ready')).toHaveLength(2), { timeout: 20_000 });

    const [one] = await ask(socket, { command: 'reload', vassal: 'a' });
    const answeredAt = Date.now();
    expect(one).toEqual({ ok: true, results: [{ vassal: 'a.ini', file: `${vassals}/a.ini`, result: 'done', generation: 2 }] });
    // Answered once the roll was done: every worker of a.ini runs generation 2 and is ready (the old ones stop).
    // (The emperor's log is written asynchronously: the record may reach us after the answer; its time may not.)
    const reloaded = await emperor.waitForLog((r) => r.event === 'vassal.reloaded' && r.vassal === 'a.ini');
    expect(Date.parse(reloaded.time as string)).toBeLessThanOrEqual(answeredAt);
    const serving = (await vassalStatus(socket, 'a.ini')).workers.filter((w) => w.state !== 'stopping');
    expect(serving.map((w) => [w.generation, w.state])).toEqual([
      [2, 'ready'],
      [2, 'ready'],
    ]);
    expect(emperor.events('vassal.reload', 'b.ini')).toHaveLength(0);

    const [all] = await ask(socket, { command: 'reload' });
    expect(all?.ok).toBe(true);
    expect((all?.results as { vassal: string; generation: number }[]).map((r) => [r.vassal, r.generation])).toEqual([
      ['a.ini', 3],
      ['b.ini', 2],
    ]);

    await writeFile(`${vassals}/b.ini`, vassalIni({ command: fixtureCommand('crash'), 'ready-after': 5 }));
    await emperor.waitForLog((r) => r.event === 'vassal.reload-failed' && r.vassal === 'b.ini');
    const [failed] = await ask(socket, { command: 'reload', vassal: 'b.ini' });
    expect(failed).toMatchObject({ ok: false, error: 'b.ini: worker 1 exit code 3', results: [{ vassal: 'b.ini', result: 'failed', generation: 4 }] });

    const [unknown] = await ask(socket, { command: 'reload', vassal: 'c.ini' });
    expect(unknown).toEqual({ ok: false, error: 'no vassal "c.ini"; vassals: a.ini, b.ini' });
  });

  it('restart-worker: successor first (ready before the old one is stopped); --force stops it first; refuses what it cannot do', async () => {
    const { emperor, socket } = await emperorWith({ 'app.ini': sleeper() });
    await emperor.waitForLog((r) => r.event === 'vassal.ready');
    const old = (await vassalStatus(socket, 'app.ini')).workers.find((w) => w.id === 2)!.pid!;

    const [rolled] = await ask(socket, { command: 'restart-worker', vassal: 'app.ini', worker: 2 });
    expect(rolled).toMatchObject({ ok: true, vassal: 'app.ini', worker: 2, replaced: [old] });
    const successor = rolled?.pid as number;
    expect(successor).not.toBe(old);
    // The log is written asynchronously: wait for the record, then compare positions (the log keeps its order).
    const index = async (match: (r: { event?: string; pid?: number }) => boolean): Promise<number> => {
      await emperor.waitForLog(match);
      return emperor.records.findIndex(match);
    };
    expect(await index((r) => r.event === 'worker.ready' && r.pid === successor)).toBeLessThan(await index((r) => r.event === 'worker.stop' && r.pid === old));
    expect(await index((r) => r.event === 'worker.exit' && r.pid === old)).toBeGreaterThan(0);
    const after = await vassalStatus(socket, 'app.ini');
    expect(after.workers.map((w) => [w.id, w.pid, w.state])).toContainEqual([2, successor, 'ready']);
    // A restart asked for is no crash.
    expect(after.restarts).toBe(0);

    const [forced] = await ask(socket, { command: 'restart-worker', vassal: 'app.ini', worker: 2, force: true });
    expect(forced).toMatchObject({ ok: true, replaced: [successor] });
    expect(await index((r) => r.event === 'worker.exit' && r.pid === successor)).toBeLessThan(await index((r) => r.event === 'worker.spawn' && r.pid === forced?.pid));

    expect((await ask(socket, { command: 'restart-worker', vassal: 'app.ini', worker: 3 }))[0]).toEqual({ ok: false, error: 'vassal app.ini has no worker 3 (processes = 2)' });
  });

  it('restart-worker: a successor that fails leaves the worker serving, and says so', async () => {
    const marker = dir.file('fail-next');
    // Worker 1 exits at once when the marker exists: its successor fails, the running one stays.
    const command = `/bin/sh -c 'if [ -e ${marker} ]; then exit 4; fi; exec sleep 3600'`;
    const { emperor, socket } = await emperorWith({ 'app.ini': vassalIni({ command, processes: 1, 'ready-after': 0.2 }) });
    await emperor.waitForLog((r) => r.event === 'vassal.ready');
    const [serving] = emperor.spawnedPids('app.ini');
    await writeFile(marker, '');
    const [answer] = await ask(socket, { command: 'restart-worker', vassal: 'app.ini', worker: 1 });
    expect(answer).toEqual({ ok: false, error: 'worker 1 of app.ini: its successor exit code 4; the worker keeps serving' });
    expect((await vassalStatus(socket, 'app.ini')).workers.map((w) => [w.pid, w.state])).toEqual([[serving, 'ready']]);
  });

  it('logs: the last lines kept; stop: answers once the emperor has stopped, which then exits 0 and removes the socket', async () => {
    const command = `/bin/sh -c 'echo "hello from $SUPERVISOR_WORKER_ID"; echo oops >&2; exec sleep 3600'`;
    const { emperor, socket } = await emperorWith({ 'app.ini': vassalIni({ command, processes: 2, 'ready-after': 0.2 }) });
    await vi.waitFor(() => expect(emperor.events('worker.output', 'app.ini')).toHaveLength(4), { timeout: 20_000 });
    const [head, ...lines] = await ask(socket, { command: 'logs', vassal: 'app', lines: 10 });
    expect(head).toEqual({ ok: true, vassal: 'app.ini', file: dir.file('vassals/app.ini'), follow: false });
    const seen = lines.map((l) => l.line as { worker: number; stream: string; line: string; pid: number });
    expect(seen.map((l) => `${l.worker} ${l.stream} ${l.line}`).sort()).toEqual(['1 stderr oops', '1 stdout hello from 1', '2 stderr oops', '2 stdout hello from 2']);
    expect(new Set(seen.map((l) => l.pid))).toEqual(new Set(emperor.spawnedPids('app.ini')));
    expect(await ask(socket, { command: 'logs', vassal: 'app', lines: 1 })).toHaveLength(2);

    expect((await ask(socket, { command: 'reopen-logs' }))[0]).toMatchObject({ ok: true, reopened: true });

    const [stopped] = await ask(socket, { command: 'stop' });
    const answeredAt = Date.now();
    expect(stopped).toEqual({ ok: true, stopped: true });
    expect((await emperor.exit()).code).toBe(0);
    // Answered after the vassals stopped (the log is asynchronous: compare its time, not when it reached us).
    const [end] = emperor.events('emperor.stopped');
    expect(Date.parse(end!.time as string)).toBeLessThanOrEqual(answeredAt);
    expect(existsSync(socket)).toBe(false);
  });

  it("reopen-logs: the emperor's log and a vassal's logto file, moved away as logrotate does, are written anew at their paths", async () => {
    const vassals = dir.file('vassals');
    await mkdir(vassals);
    const appLog = dir.file('app.log');
    const command = `/bin/sh -c 'while :; do echo tick; sleep 0.2; done'`;
    await writeFile(`${vassals}/app.ini`, vassalIni({ command, 'ready-after': 0.2, logto: appLog }));
    const socket = dir.file('control.sock');
    const emperorLog = dir.file('emperor.log');
    const emperor = new EmperorProcess(['--emperor', vassals, '--control-socket', socket, '--logto', emperorLog]);
    await waitForEvents(emperorLog, 'vassal.ready', 1);
    await vi.waitFor(() => expect(readFileSync(appLog, 'utf8')).toContain('tick'), { timeout: 20_000 });
    await rename(emperorLog, `${emperorLog}.1`);
    await rename(appLog, `${appLog}.1`);

    expect(await ask(socket, { command: 'reopen-logs' })).toEqual([{ ok: true, reopened: true }]);
    // The worker's next lines land in a new file at the configured path.
    await vi.waitFor(() => expect(readFileSync(appLog, 'utf8')).toContain('tick'), { timeout: 20_000 });
    const [stopped] = await ask(socket, { command: 'stop' });
    expect(stopped).toEqual({ ok: true, stopped: true });
    expect((await emperor.exit()).code).toBe(0);
    // The emperor's records from then on too; the earlier ones stay in the moved file.
    expect(logEvents(emperorLog, 'emperor.stopped')).toHaveLength(1);
    expect(logEvents(`${emperorLog}.1`, 'vassal.ready')).toHaveLength(1);
    expect(logEvents(`${emperorLog}.1`, 'emperor.stopped')).toHaveLength(0);
  });

  it('refuses what is not a request, and a client that says nothing is let go', async () => {
    const { socket } = await emperorWith({});
    expect(await ask(socket, 'hello\n')).toEqual([{ ok: false, error: 'a request is one line of JSON, such as {"command":"status"}' }]);
    expect(await ask(socket, `${'x'.repeat(10_000)}`)).toEqual([{ ok: false, error: 'request longer than 4096 bytes' }]);
    expect(await ask(socket, '{"command":"shutdown"}\n')).toEqual([{ ok: false, error: expect.stringMatching(/^unknown command "shutdown"/) }]);
    // Connected, silent: answered and closed after 10 s (ask resolves when the emperor closes the connection).
    const silentSince = Date.now();
    expect(await ask(socket, '', { timeoutMs: 30_000 })).toEqual([{ ok: false, error: 'no request within 10 s' }]);
    expect(Date.now() - silentSince).toBeGreaterThanOrEqual(9_900);
  });
});

describe('the control socket file', () => {
  it('is mode 0600, the emperor\'s own, replaces a stale one, and refuses a directory others may write', async () => {
    const socket = dir.file('control.sock');
    // A stale socket file left by a killed emperor.
    const first = new EmperorProcess(['--emperor', dir.path, '--control-socket', socket]);
    await first.waitForLog((r) => r.event === 'control.listening');
    await first.kill();
    expect(lstatSync(socket).isSocket()).toBe(true);
    const second = new EmperorProcess(['--emperor', dir.path, '--control-socket', socket]);
    await second.waitForLog((r) => r.event === 'control.listening');
    const st = lstatSync(socket);
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o600, 0, 0]);
    expect((await ask(socket, { command: 'status' }))[0]?.ok).toBe(true);

    await mkdir(dir.file('open'));
    await chmod(dir.file('open'), 0o1777);
    const refused = new EmperorProcess(['--emperor', dir.file('open'), '--control-socket', dir.file('open/control.sock')]);
    expect((await refused.exit()).code).toBe(1);
    expect(refused.stderr.join('')).toMatch(/control socket .*open\/control\.sock: unsafe directory: .*open is writable by other users \(mode 1777\)/);
  });

  it('a second emperor asking for the same control socket is refused before it touches anything', async () => {
    const socket = dir.file('control.sock');
    await mkdir(dir.file('a'));
    await mkdir(dir.file('b'));
    const first = new EmperorProcess(['--emperor', dir.file('a'), '--control-socket', socket]);
    await first.waitForLog((r) => r.event === 'control.listening');
    const second = new EmperorProcess(['--emperor', dir.file('b'), '--control-socket', socket]);
    expect((await second.exit()).code).toBe(1);
    expect(second.stderr.join('')).toContain(`emperor ${first.pid} already has the control socket ${socket}`);
    expect((await ask(socket, { command: 'status' }))[0]?.snapshot).toMatchObject({ emperor: { pid: first.pid } });
  });
});

describe('SIGUSR1', () => {
  it('writes the status snapshot to the emperor\'s log', async () => {
    const { emperor } = await emperorWith({ 'app.ini': sleeper() });
    await emperor.waitForLog((r) => r.event === 'vassal.ready');
    process.kill(emperor.pid, 'SIGUSR1');
    const record = await emperor.waitForLog((r) => r.event === 'emperor.status');
    const snapshot = record.snapshot as Snapshot;
    expect(snapshot.vassals.map((v) => [v.name, v.state, v.ready])).toEqual([['app.ini', 'running', 2]]);
    expect(record.msg).toMatch(/^emperor \d+ .*1 vassal, 2 of 2 workers ready\nVASSAL +STATE/);
  });
});
