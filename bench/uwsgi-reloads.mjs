// Failed requests over reloads under load, for uWSGI run by the emperor (issue 14): a Flask app answering after
// 50 ms, 2 uWSGI workers, behind nginx (uwsgi_pass), 8 clients sending requests one after the other on fresh
// connections, while the vassal is reloaded 10 times (a file edit and SIGHUP alternating, each once the previous
// roll is done). Three ways to run it:
//   uwsgi-app     the vassal file has no command: the emperor runs uWSGI with it (uwsgi-app.ts)
//   recipe        the README's recipe: command = uwsgi ..., stop-fifo = q (q on uWSGI's master FIFO)
//   old recipe    the recipe before issue 14: command = uwsgi ... --die-on-term, stopped by SIGTERM
// Prints requests, failed requests and their reasons. Needs uwsgi-core, uwsgi-plugin-python3, python3-flask, nginx.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadLoop } from './load-loop.mjs';
import { freePort, NGINX, writeNginxConf } from './nginx.mjs';
import { get, startEmperor, tempDir, until } from './lib.mjs';

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

/** One setup: returns { requests, failed, failures, reloads } or { skipped }. */
export async function uwsgiReloads(setup, { reloads = 10, connections = 8 } = {}) {
  if (!NGINX || !existsSync(UWSGI)) return { skipped: 'needs nginx and uWSGI (apt-get install nginx uwsgi-core uwsgi-plugin-python3 python3-flask)' };
  const dir = tempDir('bench-uwsgi');
  chmodSync(dir.path, 0o755);
  writeFileSync(path.join(dir.path, 'app.py'), APP);
  chmodSync(path.join(dir.path, 'app.py'), 0o644);
  const file = path.join(dir.path, 'app.ini');
  const ini = (i) => [...SETUPS[setup], `env = EDIT=${i}`, ''].join('\n');
  writeFileSync(file, ini(0));
  const emperor = startEmperor(['--emperor', dir.path]);
  const port = await freePort();
  const { conf } = writeNginxConf(dir.path, port, path.join(dir.path, 'app.sock'), { workers: 2, uwsgi: true, user: 'www-data www-data' });
  const nginx = spawn(NGINX, ['-c', conf, '-p', dir.path], { stdio: 'ignore' });
  const reloaded = () => emperor.records.filter((r) => r.event === 'vassal.reloaded').length;
  try {
    await until(async () => (await get({ host: '127.0.0.1', port })).status === 200, 60_000, 100);
    const load = loadLoop({ port, connections });
    for (let i = 1; i <= reloads; i++) {
      const before = reloaded();
      await sleep(500);
      if (i % 2) writeFileSync(file, ini(i));
      else emperor.child.kill('SIGHUP');
      await until(() => reloaded() > before, 60_000, 20);
    }
    await sleep(500);
    const result = await load.stop();
    return { requests: result.ok + result.failed, failed: result.failed, failures: result.failures, reloads };
  } finally {
    nginx.kill('SIGQUIT');
    await emperor.stop();
    dir.remove();
  }
}

export function describeUwsgiReloads(name, r) {
  if (r.skipped) return `${name}: skipped: ${r.skipped}`;
  const why = r.failures.length ? `; first failures: ${r.failures.slice(0, 3).join(', ')}` : '';
  return `${name}: ${r.failed} failed of ${r.requests} requests over ${r.reloads} reloads under load${why}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const setup of process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(SETUPS)) {
    console.log(describeUwsgiReloads(setup, await uwsgiReloads(setup)));
  }
}
