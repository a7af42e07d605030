import { chmodSync, chownSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadLoop } from '../../bench/load-loop.mjs';
import { SEEDS_DIR, SHARED_MISSING } from '../support/corpus.js';
import { EmperorProcess } from '../support/emperor.js';
import { get } from '../support/http.js';
import { freePort, startNginx } from '../support/nginx.js';
import { sandbox } from '../support/sandbox.js';
import { testAccount, testGroupId, TEST_USER } from '../support/test-users.js';
import { processFamily, reloadUnderLoad, UWSGI, UWSGI_SKIP, uwsgiSettled, writeFlaskApp } from '../support/uwsgi.js';

/**
 * Existing uWSGI vassal files, run unchanged (issue 14): a file without command that loads a uWSGI app runs as one
 * worker, a uWSGI master started with that file; the emperor holds the socket, applies uid/gid, and reloads by
 * rolling one master into the next (the old one told `q` on its master FIFO). Behind a real nginx (uwsgi_pass),
 * with Flask, as the deployment guides in ../shared/seeds set it up.
 */
const dir = sandbox('sv-uw');
const skip = UWSGI_SKIP || SHARED_MISSING || '';
const WWW_DATA = testAccount('www-data');

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A fenced block of a deployment guide, by its index among the ``` fences (as test/config/seed-guides.test.ts reads them). */
function guideBlock(guide: string, index: number): string {
  return readFileSync(path.join(SEEDS_DIR, guide), 'utf8').split(/^```.*$/m)[index]!.replace(/^\n/, '');
}

function mkdirs(...dirs: string[]): void {
  for (const d of dirs) {
    mkdirSync(d, { recursive: true });
    chmodSync(d, 0o755);
  }
}

async function nginxFor(socket: string): Promise<number> {
  const port = await freePort();
  const nginx = await startNginx(dir.path, port, socket, { uwsgi: true, user: 'www-data www-data' });
  cleanups.push(nginx.stop);
  await vi.waitFor(async () => expect((await get({ host: '127.0.0.1', port })).status).toBe(200), { timeout: 30_000, interval: 100 });
  return port;
}

/**
 * The emperor's stop of every old master went through its FIFO and it finished on its own: no SIGKILL. A master
 * stopped just after it said it was ready has no FIFO yet (uWSGI makes it after spawning its workers): the SIGINT
 * sent then is lost in Python's handler, and the FIFO, tried again, is written once it exists.
 */
function expectGracefulStops(emperor: EmperorProcess, count: number): void {
  const stops = emperor.events('worker.stop');
  expect(stops.length).toBeGreaterThanOrEqual(count);
  const later = new Set(emperor.events('worker.stop-request').filter((r) => r.request === 'written').map((r) => r.pid));
  expect(stops.filter((r) => !(r.request === 'written' || (r.request === 'failed' && later.has(r.pid))))).toEqual([]);
  expect(emperor.events('worker.kill')).toEqual([]);
  expect(emperor.events('worker.exit').map((r) => [r.code, r.signal])).toEqual(emperor.events('worker.exit').map(() => [0, null]));
}

async function stopCleanly(emperor: EmperorProcess): Promise<void> {
  await uwsgiSettled(emperor.spawnedPids().at(-1)!);
  emperor.child.kill('SIGTERM');
  expect(await emperor.exit(90_000)).toEqual({ code: 0, signal: undefined });
  expectGracefulStops(emperor, 1);
  expect(emperor.liveDescendants()).toEqual([]);
}

describe.skipIf(Boolean(skip))(`uWSGI app vassals, behind nginx${skip}`, () => {
  it("guide 003's skycmdb.ini runs as written (paths and nginx -> www-data adapted): answers as www-data, logs to its logto, reloads under load without a failed request, stops cleanly", async () => {
    const run = dir.file('run');
    const log = dir.file('log');
    const app = dir.file('www/skycmdb');
    const vassals = dir.file('vassals');
    mkdirs(dir.path, run, log, app, vassals);
    chownSync(log, WWW_DATA.uid, WWW_DATA.gid);
    const ini = guideBlock('003_b3e2a1973641a9fc.txt', 7)
      .replaceAll('/usr/local/uwsgi/var/run', run)
      .replaceAll('/usr/local/uwsgi/var/log', log)
      .replaceAll('/var/www/html/skycmdb', app)
      .replaceAll('nginx', 'www-data');
    expect(ini).toContain('wsgi-file = SKY.wsgi');
    const file = path.join(vassals, 'skycmdb.ini');
    writeFileSync(file, ini);
    writeFlaskApp(app, 'SkyFlask', 'sky');
    writeFileSync(path.join(app, 'SKY.wsgi'), '# -*- coding: utf-8 -*-\nfrom SkyFlask import sky as application\n');

    const emperor = new EmperorProcess(['--emperor', vassals]);
    await emperor.waitForLog((r) => r.event === 'vassal.ready', 30_000);
    const socket = path.join(run, 'skycmdb.sock');
    const port = await nginxFor(socket);

    // uWSGI attached to the emperor's socket; the socket belongs to www-data, as uWSGI (dropping to uid first) made it.
    // (uWSGI reads its options, the fd:// ones among them, before it opens logto: that line is in the emperor's log.)
    expect(emperor.records.map((r) => r.msg)).toContain(`uwsgi socket 1 inherited UNIX address ${socket} fd 3`);
    expect(statSync(socket).uid).toBe(WWW_DATA.uid);
    const [, pid, uid, gid] = (await get({ host: '127.0.0.1', port })).body.split(' ').map(Number);
    expect([uid, gid]).toEqual([WWW_DATA.uid, WWW_DATA.gid]);
    const master = emperor.spawnedPids('skycmdb.ini')[0]!;
    expect(processFamily(master).map((p) => p.pid)).toContain(pid);
    expect(processFamily(master).every((p) => p.uid === WWW_DATA.uid && p.gid === WWW_DATA.gid)).toBe(true);
    expect(readFileSync(path.join(log, 'skycmdb.log'), 'utf8')).toMatch(/WSGI app 0 \(mountpoint=''\) ready/);

    const load = await reloadUnderLoad(emperor, { port, file, count: 2, edit: (i) => `${ini}\nenv = EDITED=${i}\n` });
    expect({ failed: load.failed, failures: load.failures }).toEqual({ failed: 0, failures: [] });
    expect(load.ok).toBeGreaterThan(40);
    expect((await get({ host: '127.0.0.1', port }, '/env?name=EDITED')).body).toBe('1');
    expectGracefulStops(emperor, 2);
    await stopCleanly(emperor);
  });

  it("guide 000's flaskr.ini runs as written, in tyrant mode as the guide's Upstart user: relative socket, chmod-socket 660, 5 workers as that user, vacuum; reloads under load without a failed request", async () => {
    const project = dir.file('flaskr');
    mkdirs(dir.path, project);
    const user = testAccount(TEST_USER);
    const wwwData = testGroupId('www-data');
    const ini = guideBlock('000_4d638b6e1d03a568.txt', 25);
    expect(ini).toContain('socket = flaskr.sock');
    const file = path.join(project, 'flaskr.ini');
    writeFileSync(file, ini);
    // The guide's Upstart job: "setuid user", "setgid www-data"; here the file's owner, as emperor-tyrant runs it.
    // The project is the user's (the guide: "our project files are all owned by our own user account").
    chownSync(file, user.uid, wwwData);
    chownSync(project, user.uid, user.gid);
    writeFlaskApp(project, 'flaskr', 'application');
    writeFileSync(path.join(project, 'wsgi.py'), 'from flaskr import application\n\nif __name__ == "__main__":\n    application.run()\n');

    const emperor = new EmperorProcess(['--emperor', project, '--emperor-tyrant', '--tyrant-pass-env', 'SV_TEST_TAG']);
    await emperor.waitForLog((r) => r.event === 'vassal.ready', 30_000);
    const socket = path.join(project, 'flaskr.sock');
    const bound = statSync(socket);
    expect({ mode: bound.mode & 0o777, uid: bound.uid, gid: bound.gid }).toEqual({ mode: 0o660, uid: user.uid, gid: wwwData });
    // uWSGI recognised the emperor's socket by its relative name, and bound nothing itself.
    await vi.waitFor(() => expect(emperor.records.map((r) => r.msg)).toContain('uwsgi socket 1 inherited UNIX address flaskr.sock fd 3'), { timeout: 10_000 });
    expect(emperor.records.some((r) => /bound to UNIX address/.test(r.msg))).toBe(false);

    const port = await nginxFor(socket);
    const master = emperor.spawnedPids('flaskr.ini')[0]!;
    await vi.waitFor(() => expect(processFamily(master)).toHaveLength(6), { timeout: 20_000 });
    expect(processFamily(master).map((p) => [p.uid, p.gid])).toEqual(Array(6).fill([user.uid, wwwData]));

    const load = await reloadUnderLoad(emperor, { port, file, count: 2, edit: (i) => `${ini}\nenv = EDITED=${i}\n` });
    expect({ failed: load.failed, failures: load.failures }).toEqual({ failed: 0, failures: [] });
    expect(statSync(socket).ino).toBe(bound.ino);
    expectGracefulStops(emperor, 2);
    await stopCleanly(emperor);
    expect(() => statSync(socket)).toThrow(/ENOENT/);
  });

  it('a reload while requests are in flight: the old master finishes them (q on its master FIFO), none refused, none failed', async () => {
    mkdirs(dir.path);
    writeFlaskApp(dir.path, 'app', 'application');
    const socket = dir.file('app.sock');
    const file = dir.file('app.ini');
    // Processes, not threads: uWSGI 2.0.21 (Debian 12's) can hang a threaded worker told to stop gracefully with
    // requests in flight, until its own mercy (60 s) kills it; seen without the emperor too (README, uWSGI app vassals).
    writeFileSync(file, ['[uwsgi]', 'wsgi-file = app.py', 'master = true', 'processes = 8', `socket = ${socket}`, 'uid = www-data', 'gid = www-data', ''].join('\n'));
    const emperor = new EmperorProcess(['--emperor', dir.path]);
    await emperor.waitForLog((r) => r.event === 'vassal.ready', 30_000);
    const port = await nginxFor(socket);

    const fast = loadLoop({ port, connections: 4 });
    const slow = Array.from({ length: 6 }, () => get({ host: '127.0.0.1', port }, '/slow?s=2', 30_000));
    await vi.waitFor(() => expect(fast.result.ok).toBeGreaterThan(20), { timeout: 20_000 });
    const old = emperor.spawnedPids('app.ini')[0]!;
    emperor.child.kill('SIGHUP');
    await emperor.waitForLog((r) => r.event === 'worker.stop' && r.pid === old, 30_000);
    const answers = await Promise.all(slow);
    await emperor.waitForLog((r) => r.event === 'worker.exit' && r.pid === old, 30_000);
    const counts = await fast.stop();
    expect(answers.map((a) => a.status)).toEqual(Array(6).fill(200));
    expect(answers.every((a) => a.body.startsWith('slow '))).toBe(true);
    expect({ failed: counts.failed, failures: counts.failures }).toEqual({ failed: 0, failures: [] });
    expectGracefulStops(emperor, 1);
    await stopCleanly(emperor);
  });

  it("options both sides read, against the real binary: each socket keeps its line's protocol, pidfile is uWSGI's (the newest master's), daemonize logs instead of forking, vacuum is the emperor's", async () => {
    mkdirs(dir.path);
    writeFlaskApp(dir.path, 'app', 'application');
    const httpSocket = dir.file('http.sock');
    const tcpPort = await freePort();
    const pidfile = dir.file('app.pid');
    const daemonLog = dir.file('daemon.log');
    const file = dir.file('app.ini');
    const ini = ['[uwsgi]', 'wsgi-file = app.py', `http-socket = ${httpSocket}`, `uwsgi-socket = 127.0.0.1:${tcpPort}`, `pidfile = ${pidfile}`, `daemonize = ${daemonLog}`, 'vacuum = true', ''].join('\n');
    writeFileSync(file, ini);
    const emperor = new EmperorProcess(['--emperor', dir.path]);
    await emperor.waitForLog((r) => r.event === 'vassal.ready', 30_000);
    const first = emperor.spawnedPids('app.ini')[0]!;
    // HTTP on the unix socket (http-socket), uwsgi protocol through nginx on the TCP one (uwsgi-socket).
    expect((await get({ socketPath: httpSocket })).body).toMatch(/^hello \d+ 0 0$/);
    await nginxFor(`127.0.0.1:${tcpPort}`);
    expect(readFileSync(pidfile, 'utf8').trim()).toBe(String(first));
    await vi.waitFor(() => expect(readFileSync(daemonLog, 'utf8')).toContain('WSGI app 0'), { timeout: 10_000 });
    const inode = statSync(httpSocket).ino;

    emperor.child.kill('SIGHUP');
    await emperor.waitForLog((r) => r.event === 'worker.exit' && r.pid === first, 30_000);
    const second = emperor.spawnedPids('app.ini')[1]!;
    // The old master, gone, removed neither its pidfile (now the new master's) nor the socket the new one serves on.
    expect(readFileSync(pidfile, 'utf8').trim()).toBe(String(second));
    expect(statSync(httpSocket).ino).toBe(inode);
    expect((await get({ socketPath: httpSocket })).status).toBe(200);
    await stopCleanly(emperor);
    expect(() => statSync(httpSocket)).toThrow(/ENOENT/);
  });

  it('a vassal whose uWSGI binds a port itself (stats) reloads stop-first, with the reason logged, and comes back', async () => {
    mkdirs(dir.path);
    writeFlaskApp(dir.path, 'app', 'application');
    const statsPort = await freePort();
    const file = dir.file('app.ini');
    writeFileSync(file, ['[uwsgi]', 'wsgi-file = app.py', `socket = ${dir.file('app.sock')}`, `stats = 127.0.0.1:${statsPort}`, ''].join('\n'));
    const emperor = new EmperorProcess(['--emperor', dir.path]);
    await emperor.waitForLog((r) => r.event === 'vassal.ready', 30_000);
    emperor.child.kill('SIGHUP');
    const reload = await emperor.waitForLog((r) => r.event === 'vassal.reload', 20_000);
    expect(reload.stopFirst).toBe(`stats = 127.0.0.1:${statsPort} (line 4) is bound by uWSGI itself, and two masters cannot hold it at once`);
    await emperor.waitForLog((r) => r.event === 'vassal.reloaded', 30_000);
    const [first, second] = emperor.spawnedPids('app.ini');
    const exitOfFirst = emperor.records.findIndex((r) => r.event === 'worker.exit' && r.pid === first);
    const spawnOfSecond = emperor.records.findIndex((r) => r.event === 'worker.spawn' && r.pid === second);
    expect(exitOfFirst).toBeGreaterThan(-1);
    expect(spawnOfSecond).toBeGreaterThan(exitOfFirst);
    expect(emperor.events('worker.died')).toEqual([]);
    await stopCleanly(emperor);
  });

  it(`the README's recipe, command = ${UWSGI} ... with stop-fifo, reloads under load without a failed request`, async () => {
    mkdirs(dir.path);
    writeFlaskApp(dir.path, 'app', 'application');
    const file = dir.file('app.ini');
    // The recipe exactly as the README gives it, plus what nginx (as www-data) needs to reach the socket.
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const recipe = /\*\*uWSGI as a `command`\*\*[\s\S]*?```ini\n([\s\S]*?)```/.exec(readme)![1]!;
    expect(recipe).toContain('stop-fifo = q');
    const ini = `${recipe}chmod-socket = 660\nchown-socket = www-data:www-data\nuid = www-data\ngid = www-data\n`;
    writeFileSync(file, ini);
    const emperor = new EmperorProcess(['--emperor', dir.path]);
    await emperor.waitForLog((r) => r.event === 'vassal.ready', 30_000);
    const port = await nginxFor(dir.file('app.sock'));
    const load = await reloadUnderLoad(emperor, { port, file, count: 2, path: '/slow?s=0.2', edit: (i) => `${ini}env = EDITED=${i}\n` });
    expect({ failed: load.failed, failures: load.failures }).toEqual({ failed: 0, failures: [] });
    expectGracefulStops(emperor, 2);
    await stopCleanly(emperor);
  });
});
