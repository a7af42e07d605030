import { existsSync } from 'node:fs';
import { rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it, vi } from 'vitest';
import { CLI, EmperorProcess, fixtureCommand, NODE } from '../support/emperor.js';
import { ask, pidsAnswering, serveIni } from '../support/serving.js';
import { isAlive } from '../support/processes.js';
import { sandbox } from '../support/sandbox.js';

const dir = sandbox();
let emperor: EmperorProcess | undefined;

function appIni(socket: string, extra: Record<string, string | number> = {}): string {
  return serveIni(socket, extra);
}

describe('emperor, end to end through the CLI', () => {
  it('runs a 2-worker group that answers over its unix socket, mode 0660, from both workers', async () => {
    await writeFile(path.join(dir.path, 'app.ini'), appIni('app.sock'));
    emperor = new EmperorProcess(['--emperor', dir.path]);
    const socketPath = path.join(dir.path, 'app.sock');

    // Workers all accept on one shared socket, so which one answers is the kernel's choice: ask until both have.
    const pids = await vi.waitFor(
      async () => {
        const seen = await pidsAnswering(socketPath, 20);
        expect(seen.size).toBe(2);
        return seen;
      },
      { timeout: 20_000 },
    );
    expect([...pids].sort()).toEqual(emperor.spawnedPids('app.ini').sort());
    expect((await stat(socketPath)).mode & 0o777).toBe(0o660);
  });

  it('starts an added file, scales 1 -> 3 on edit without restarting the first worker, and stops and vacuums on delete', async () => {
    await writeFile(path.join(dir.path, 'first.ini'), appIni('first.sock', { processes: 1 }));
    emperor = new EmperorProcess(['--emperor', dir.path]);
    await pidsAnswering(path.join(dir.path, 'first.sock'), 1);

    const second = path.join(dir.path, 'second.ini');
    const secondSocket = path.join(dir.path, 'second.sock');
    await writeFile(second, appIni('second.sock', { processes: 1 }));
    const [original] = await pidsAnswering(secondSocket, 3);

    await writeFile(second, appIni('second.sock', { processes: 3 }));
    await emperor.waitForLog((r) => r.event === 'vassal.scale' && r.vassal === 'second.ini');
    await vi.waitFor(
      () => {
        const ready = emperor!.events('worker.ready', 'second.ini').map((r) => r.pid);
        expect(new Set(ready).size).toBe(3);
      },
      { timeout: 20_000 },
    );
    const spawned = emperor.spawnedPids('second.ini');
    expect(spawned).toHaveLength(3);
    expect(spawned).toContain(original);
    expect(spawned.every(isAlive)).toBe(true);

    await rm(second);
    await vi.waitFor(() => expect(spawned.some(isAlive)).toBe(false), { timeout: 20_000 });
    await vi.waitFor(() => expect(existsSync(secondSocket)).toBe(false), { timeout: 5_000 });
    // The other vassal is not disturbed.
    expect((await ask(path.join(dir.path, 'first.sock'))).pid).toBe(emperor.spawnedPids('first.ini')[0]);
  });

  it('stops gracefully on SIGTERM: exit code 0, no worker left, socket and pidfile removed', async () => {
    await writeFile(path.join(dir.path, 'app.ini'), appIni('app.sock'));
    const pidfile = path.join(dir.path, 'emperor.pid');
    emperor = new EmperorProcess(['--emperor', dir.path, '--pidfile', pidfile]);
    await pidsAnswering(path.join(dir.path, 'app.sock'), 2);
    expect(Number((await import('node:fs')).readFileSync(pidfile, 'utf8'))).toBe(emperor.pid);
    expect((await stat(pidfile)).mode & 0o777).toBe(0o644);

    emperor.child.kill('SIGTERM');
    const { code } = await emperor.exit();
    expect(code).toBe(0);
    expect(emperor.liveDescendants()).toEqual([]);
    expect(emperor.spawnedPids().filter(isAlive)).toEqual([]);
    expect(existsSync(path.join(dir.path, 'app.sock'))).toBe(false);
    expect(existsSync(pidfile)).toBe(false);
  });

  it('--stop PIDFILE stops the emperor and returns only once it has exited', async () => {
    await writeFile(path.join(dir.path, 'app.ini'), appIni('app.sock'));
    const pidfile = path.join(dir.path, 'emperor.pid');
    emperor = new EmperorProcess(['--emperor', dir.path, '--pidfile', pidfile]);
    await pidsAnswering(path.join(dir.path, 'app.sock'), 2);

    const stopped = await execa(NODE, [CLI, '--stop', pidfile], { reject: false });
    // Checked the moment --stop returns: nothing of the emperor may still be running.
    expect(isAlive(emperor.pid)).toBe(false);
    expect(emperor.liveDescendants()).toEqual([]);
    expect(stopped.exitCode).toBe(0);
    expect(stopped.stdout).toContain(`emperor ${emperor.pid} stopped`);
    expect((await emperor.exit()).code).toBe(0);
    expect(existsSync(pidfile)).toBe(false);
    expect(existsSync(path.join(dir.path, 'app.sock'))).toBe(false);
  });

  it('--stop PID (digits that name no file, as a unit passes $MAINPID) stops the emperor too', async () => {
    await writeFile(path.join(dir.path, 'app.ini'), appIni('app.sock'));
    emperor = new EmperorProcess(['--emperor', dir.path]);
    await pidsAnswering(path.join(dir.path, 'app.sock'), 2);

    const stopped = await execa(NODE, [CLI, '--stop', String(emperor.pid)], { reject: false, cwd: dir.path });
    expect(isAlive(emperor.pid)).toBe(false);
    expect(stopped.exitCode).toBe(0);
    expect(stopped.stdout).toContain(`emperor ${emperor.pid} stopped`);
    expect(emperor.liveDescendants()).toEqual([]);
  });

  it('--stop fails with a message when the pidfile names no running process', async () => {
    const pidfile = path.join(dir.path, 'stale.pid');
    await writeFile(pidfile, '999999\n');
    const result = await execa(NODE, [CLI, '--stop', pidfile], { reject: false });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('no process 999999');
  });

  it('serves the good vassal next to a broken one and names the broken file and line', async () => {
    await writeFile(path.join(dir.path, 'good.ini'), appIni('good.sock'));
    const broken = path.join(dir.path, 'broken.ini');
    await writeFile(broken, ['[uwsgi]', `command = ${fixtureCommand('forever')}`, 'processes = lots', ''].join('\n'));
    emperor = new EmperorProcess(['--emperor', dir.path]);

    const pids = await pidsAnswering(path.join(dir.path, 'good.sock'), 4);
    expect(pids.size).toBeGreaterThan(0);
    const error = await emperor.waitForLog((r) => r.event === 'config.diagnostic' && r.severity === 'error');
    expect(error.msg).toBe(`${broken}:3: error: invalid value for processes: expected an integer (workers), got "lots"`);
    expect(emperor.spawnedPids('broken.ini')).toEqual([]);
  });

  it('keeps a connection made while the only worker restarts waiting in the backlog, and answers it', async () => {
    await writeFile(path.join(dir.path, 'solo.ini'), appIni('solo.sock', { processes: 1, env: 'STARTUP_DELAY_MS=400' }));
    const solo = new EmperorProcess(['--emperor', dir.path]);
    emperor = solo;
    const socketPath = path.join(dir.path, 'solo.sock');
    const [first] = await pidsAnswering(socketPath, 1);

    process.kill(first!, 'SIGKILL');
    await vi.waitFor(() => expect(isAlive(first!)).toBe(false), { timeout: 5_000, interval: 5 });
    // No worker is accepting now (the replacement takes 400 ms to listen): the kernel must queue this connection.
    const answer = await ask(socketPath);
    expect(answer.pid).not.toBe(first);
    // Its spawn record may be read from the emperor's output after its answer was (two pipes, read as they come).
    await vi.waitFor(() => expect(solo.spawnedPids('solo.ini')).toContain(answer.pid), { timeout: 10_000, interval: 20 });
  });
});
