// Failed requests over reloads under load, for uWSGI run by the emperor (issue 14): a Flask app answering after
// 50 ms, 2 uWSGI workers, behind nginx (uwsgi_pass), 8 clients sending requests one after the other on fresh
// connections, while the vassal is reloaded 10 times (a file edit and SIGHUP alternating, each once the previous
// roll is done). Three ways to run it:
//   uwsgi-app     the vassal file has no command: the emperor runs uWSGI with it (uwsgi-app.ts)
//   recipe        the README's recipe: command = uwsgi ..., stop-fifo = q (q on uWSGI's master FIFO)
//   old recipe    the recipe before issue 14: command = uwsgi ... --die-on-term, stopped by SIGTERM
// and, as the peer, uwsgiEmperorReloads: the uwsgi-app file under uWSGI's own emperor (`uwsgi --emperor DIR`), with
// `plugins = python3` added (what our emperor passes as --plugin), reloaded by an edit and a touch alternating (uWSGI
// reloads a vassal whose file's mtime moved: SIGHUP to its master, a graceful reload).
// Prints requests, failed requests and their reasons. Needs uwsgi-core, uwsgi-plugin-python3, python3-flask, nginx.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadLoop } from './load-loop.mjs';
import { freePort, NGINX, writeNginxConf } from './nginx.mjs';
import { get, startEmperor, tempDir, until } from './lib.mjs';
import { startUwsgiEmperor } from './uwsgi.mjs';

const UWSGI = '/usr/bin/uwsgi';

const APP = [
  'import os, time',
  'from flask import Flask',
  'application = Flask(__name__)',
  '@application.route("/")',
  'def hello():',
  '    time.sleep(0.05)',
  '    return "hello %d" % os.getpid()',
  '',
].join('\n');

const SOCKET_LINES = ['socket = app.sock', 'chmod-socket = 660', 'chown-socket = www-data:www-data', 'uid = www-data', 'gid = www-data'];

export const SETUPS = {
  'uwsgi-app': ['[uwsgi]', 'module = app', 'master = true', 'processes = 2', ...SOCKET_LINES],
  recipe: [
    '[uwsgi]',
    `command = ${UWSGI} --plugin python3 --module app --master --processes 2`,
    ...SOCKET_LINES,
    'notify-socket = true',
    'kill-mode = mixed',
    'stop-fifo = q',
    'stop-fifo-env = UWSGI_MASTER_FIFO',
    'stop-signal = INT',
  ],
  'old recipe': ['[uwsgi]', `command = ${UWSGI} --plugin python3 --module app --master --processes 2 --die-on-term`, ...SOCKET_LINES, 'notify-socket = true', 'kill-mode = mixed'],
};

const MISSING = 'needs nginx and uWSGI (apt-get install nginx uwsgi-core uwsgi-plugin-python3 python3-flask)';

/**
 * The run both peers share: the app and `lines` as app.ini in a fresh directory, `start(dir)` the supervisor of that
 * directory, nginx in front, the load, and `reloads` reloads, each `change(i, file, edited text)` once the previous
 * one is `done` (a count that grows by one per reload). Returns { requests, failed, failures, reloads, seconds (of
 * load) }.
 */
async function reloadsUnderLoad(lines, { start, change, done, describeError }, { reloads, connections }) {
  const dir = tempDir('bench-uwsgi');
  chmodSync(dir.path, 0o755);
  writeFileSync(path.join(dir.path, 'app.py'), APP);
  chmodSync(path.join(dir.path, 'app.py'), 0o644);
  const file = path.join(dir.path, 'app.ini');
  const ini = (i) => [...lines, `env = EDIT=${i}`, ''].join('\n');
  writeFileSync(file, ini(0));
  const peer = start(dir.path);
  const port = await freePort();
  const { conf } = writeNginxConf(dir.path, port, path.join(dir.path, 'app.sock'), { workers: 2, uwsgi: true, user: 'www-data www-data' });
  const nginx = spawn(NGINX, ['-c', conf, '-p', dir.path], { stdio: 'ignore' });
  try {
    await until(async () => (await get({ host: '127.0.0.1', port })).status === 200, 60_000, 100);
    const load = loadLoop({ port, connections });
    const loadStarted = performance.now();
    for (let i = 1; i <= reloads; i++) {
      const before = done(peer);
      await sleep(500);
      change(peer, i, file, ini(i));
      await until(() => done(peer) > before, 60_000, 20);
    }
    await sleep(500);
    const result = await load.stop();
    return { requests: result.ok + result.failed, failed: result.failed, failures: result.failures, reloads, seconds: (performance.now() - loadStarted) / 1000 };
  } catch (err) {
    if (describeError) err.message += describeError(peer);
    throw err;
  } finally {
    nginx.kill('SIGQUIT');
    await peer.stop();
    dir.remove();
  }
}

/** One setup under our emperor, reloaded by a file edit and SIGHUP alternating: see reloadsUnderLoad, or { skipped }. */
export async function uwsgiReloads(setup, { reloads = 10, connections = 8 } = {}) {
  if (!NGINX || !existsSync(UWSGI)) return { skipped: MISSING };
  return reloadsUnderLoad(
    SETUPS[setup],
    {
      start: (dir) => startEmperor(['--emperor', dir]),
      change: (emperor, i, file, text) => (i % 2 ? writeFileSync(file, text) : emperor.child.kill('SIGHUP')),
      done: (emperor) => emperor.records.filter((r) => r.event === 'vassal.reloaded').length,
    },
    { reloads, connections },
  );
}

/**
 * The uwsgi-app setup's file under uWSGI's own emperor (with `plugins = python3`, which ours passes as --plugin):
 * an edit and a touch alternating, each once uWSGI has spawned both workers again. See reloadsUnderLoad.
 */
export async function uwsgiEmperorReloads({ reloads = 10, connections = 8 } = {}) {
  if (!NGINX || !existsSync(UWSGI)) return { skipped: MISSING };
  const [section, ...rest] = SETUPS['uwsgi-app'];
  return reloadsUnderLoad(
    [section, 'plugins = python3', ...rest],
    {
      start: (dir) => startUwsgiEmperor(dir, dir),
      change: (_, i, file, text) => {
        // uWSGI compares mtimes in whole seconds and reloads only when one is later: every change (an edit, a
        // touch) gives the file the next second at least, which may be up to a second ahead of the clock.
        const at = Math.max(Math.floor(Date.now() / 1000), Math.floor(statSync(file).mtimeMs / 1000) + 1);
        if (i % 2) writeFileSync(file, text);
        utimesSync(file, at, at);
      },
      // Both workers spawned again: the reload is over (uWSGI's master re-execs itself and forks its workers anew).
      done: (emperor) => emperor.lines.filter((l) => /spawned uWSGI worker 2 /.test(l.text)).length,
      describeError: (emperor) =>
        `\nuWSGI said (request lines left out):\n${emperor.lines.filter((l) => !/ GET \//.test(l.text)).slice(-40).map((l) => `  | ${l.text}`).join('\n')}`,
    },
    { reloads, connections },
  );
}

export function describeUwsgiReloads(name, r) {
  if (r.skipped) return `${name}: skipped: ${r.skipped}`;
  const why = r.failures.length ? `; first failures: ${r.failures.slice(0, 3).join(', ')}` : '';
  return `${name}: ${r.failed} failed of ${r.requests} requests over ${r.reloads} reloads under load, in ${r.seconds.toFixed(1)} s${why}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const setup of process.argv.slice(2).length ? process.argv.slice(2) : [...Object.keys(SETUPS), 'uwsgi-emperor']) {
    console.log(describeUwsgiReloads(setup, setup === 'uwsgi-emperor' ? await uwsgiEmperorReloads() : await uwsgiReloads(setup)));
  }
}
