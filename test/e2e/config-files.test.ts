import { existsSync, readFileSync } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { EmperorProcess, fixtureCommand } from '../support/emperor.js';
import { get } from '../support/http.js';
import { isAlive } from '../support/processes.js';
import { sandbox } from '../support/sandbox.js';

const dir = sandbox();
let supervisor: EmperorProcess | undefined;

async function write(name: string, lines: readonly string[]): Promise<string> {
  const file = path.join(dir.path, name);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

/** Pids of the workers answering on a unix socket, over `requests` requests (waits until it answers). */
async function answeringPids(socketPath: string, requests = 12): Promise<Set<number>> {
  await vi.waitFor(() => get({ socketPath }), { timeout: 20_000, interval: 50 });
  const pids = new Set<number>();
  for (let i = 0; i < requests; i++) pids.add((JSON.parse((await get({ socketPath })).body) as { pid: number }).pid);
  return pids;
}

function readyWorkers(p: EmperorProcess, vassal: string): number[] {
  return [...new Set(p.events('worker.ready', vassal).map((r) => r.pid as number))];
}

describe('config files, end to end through the CLI', () => {
  it('a broken edit of a running vassal leaves its group untouched and logs the error with file:line', async () => {
    const vassals = path.join(dir.path, 'vassals');
    const lines = ['[uwsgi]', `command = ${fixtureCommand('serve-on-fd3')}`, 'processes = 2', 'socket = app.sock', 'notification-fd = auto'];
    const file = await write('vassals/app.ini', lines);
    supervisor = new EmperorProcess(['--emperor', vassals]);
    const socketPath = path.join(vassals, 'app.sock');
    await vi.waitFor(() => expect(readyWorkers(supervisor!, 'app.ini')).toHaveLength(2), { timeout: 20_000 });
    const before = supervisor.spawnedPids('app.ini');

    await writeFile(file, [...lines.slice(0, 2), 'processes = 3  ; one more for the sale', ...lines.slice(3), 'ini = missing.ini', ''].join('\n'));
    const first = await supervisor.waitForLog((r) => r.event === 'config.diagnostic' && r.severity === 'error');
    expect(first.msg).toBe(
      `${file}:3: error: invalid value for processes: expected an integer (workers), got "3  ; one more for the sale". uWSGI has no inline comments: everything after "=" is the value; put the comment on a line of its own`,
    );
    await supervisor.waitForLog((r) => r.event === 'vassal.config-error' && r.vassal === 'app.ini');
    expect(supervisor.events('config.diagnostic').filter((r) => r.severity === 'error').map((r) => r.msg)).toContain(
      `${file}:6: error: cannot read ini = missing.ini (${vassals}/missing.ini): no such file`,
    );
    // Still the same two workers, alive and answering; nothing was started or stopped.
    expect(supervisor.spawnedPids('app.ini')).toEqual(before);
    expect(before.every(isAlive)).toBe(true);
    expect([...(await answeringPids(socketPath))].every((pid) => before.includes(pid))).toBe(true);
    expect(supervisor.events('worker.exit', 'app.ini')).toEqual([]);

    // The fix is picked up as usual.
    await writeFile(file, [...lines.slice(0, 2), 'processes = 3', ...lines.slice(3), ''].join('\n'));
    await vi.waitFor(() => expect(readyWorkers(supervisor!, 'app.ini')).toHaveLength(3), { timeout: 20_000 });
    expect(before.every(isAlive)).toBe(true);
  });

  it('supervisor emperor.ini runs the emperor it describes, paths relative to it, with vassals-include and vassal-set', async () => {
    await write('conf/defaults.ini', ['[uwsgi]', 'socket = %N.sock', 'chmod-socket = 660', 'notification-fd = auto', 'processes = 1']);
    await write('conf/vassals/shop.ini', ['[uwsgi]', `command = ${fixtureCommand('serve-on-fd3')}`, 'vacuum = true']);
    const emperorIni = await write('conf/emperor.ini', ['[uwsgi]', 'emperor = vassals', 'pidfile = emperor.pid', 'vassals-include = defaults.ini', 'vassal-set = processes=2', 'master = true']);
    await mkdir(path.join(dir.path, 'elsewhere'));
    // Run from another directory: the file's relative paths are the file's; a flag's are the cwd's, and it wins.
    supervisor = new EmperorProcess([emperorIni, '--pidfile', 'flag.pid'], { cwd: path.join(dir.path, 'elsewhere') });
    const socketPath = path.join(dir.path, 'conf/vassals/shop.sock');
    await vi.waitFor(() => expect(readyWorkers(supervisor!, 'shop.ini')).toHaveLength(2), { timeout: 20_000 });
    expect((await answeringPids(socketPath)).size).toBeGreaterThan(0);
    expect((await stat(socketPath)).mode & 0o777).toBe(0o660);
    const pidfile = path.join(dir.path, 'elsewhere/flag.pid');
    expect(Number(readFileSync(pidfile, 'utf8'))).toBe(supervisor.pid);
    expect(existsSync(path.join(dir.path, 'conf/emperor.pid'))).toBe(false);
    expect(supervisor.records.some((r) => r.msg.includes('"master" is a uWSGI option'))).toBe(false);
    expect(supervisor.stderr.join('')).toContain(`${emperorIni}:6: note: "master" is a uWSGI option, not applicable here (ignored)`);

    supervisor.child.kill('SIGTERM');
    expect((await supervisor.exit()).code).toBe(0);
    expect(existsSync(pidfile)).toBe(false);
    expect(existsSync(socketPath)).toBe(false);
  });

  it('supervisor app.ini runs that one vassal in the foreground: SIGHUP reads it again, SIGTERM stops it', async () => {
    const lines = ['[uwsgi]', `command = ${fixtureCommand('serve-on-fd3')}`, 'socket = %n.sock', 'notification-fd', 'vacuum'];
    const file = await write('app.ini', [...lines, 'processes = 1']);
    supervisor = new EmperorProcess([file]);
    const socketPath = path.join(dir.path, 'app.sock');
    const [first] = await answeringPids(socketPath, 1);
    expect(supervisor.spawnedPids('app.ini')).toEqual([first]);

    // SIGHUP reloads like the emperor's: a rolling reload to the file as it is now, here with two workers.
    await writeFile(file, [...lines, 'processes = 2', ''].join('\n'));
    supervisor.child.kill('SIGHUP');
    await supervisor.waitForLog((r) => r.event === 'vassal.reload' && r.generation === 2);
    await vi.waitFor(
      () => {
        expect(isAlive(first!)).toBe(false);
        expect(supervisor!.spawnedPids('app.ini').filter(isAlive)).toHaveLength(2);
      },
      { timeout: 20_000 },
    );
    const reloaded = supervisor.spawnedPids('app.ini').filter(isAlive);

    await writeFile(file, [...lines, 'processes = two', ''].join('\n'));
    supervisor.child.kill('SIGHUP');
    const error = await supervisor.waitForLog((r) => r.event === 'config.diagnostic' && r.severity === 'error');
    expect(error.msg).toBe(`${file}:6: error: invalid value for processes: expected an integer (workers), got "two"`);
    await supervisor.waitForLog((r) => r.event === 'vassal.config-error');
    expect(supervisor.spawnedPids('app.ini').filter(isAlive)).toEqual(reloaded);

    supervisor.child.kill('SIGTERM');
    expect((await supervisor.exit()).code).toBe(0);
    expect(supervisor.liveDescendants()).toEqual([]);
    expect(existsSync(socketPath)).toBe(false);
  });

  it('supervisor app.ini:section and --ini app.ini:section run the vassal that section describes', async () => {
    const file = await write('app.ini', ['[uwsgi]', 'command = /bin/sleep 101', '[jobs]', 'command = /bin/sleep 102', 'ready-after = 0']);
    for (const args of [[`${file}:jobs`], ['--ini', `${file}:jobs`]]) {
      supervisor = new EmperorProcess(args);
      const spawned = await supervisor.waitForLog((r) => r.event === 'worker.spawn');
      expect(spawned.argv).toEqual(['/bin/sleep', '102']);
      supervisor.child.kill('SIGTERM');
      expect((await supervisor.exit()).code).toBe(0);
    }
  });

  it('supervisor app.ini refuses a file with errors before starting anything, with file:line on stderr', async () => {
    const file = await write('app.ini', ['[uwsgi]', 'module = wsgi:app', 'socket = app.sock']);
    supervisor = new EmperorProcess([file]);
    expect((await supervisor.exit()).code).toBe(2);
    expect(supervisor.stderr.join('')).toContain(`supervisor: ${file}: error: no "command" option`);
    expect(supervisor.stderr.join('')).toContain(`supervisor: ${file}:2: note: "module" is a uWSGI option, not applicable here (ignored)`);
    expect(supervisor.events('worker.spawn')).toEqual([]);
  });
});
