import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/config/diagnostic.js';
import { parseVassalText, type VassalDefaults } from '../../src/config/load-vassal.js';
import { findNotApplicable } from '../../src/config/options/index.js';
import { APP_LOADERS } from '../../src/config/uwsgi-app.js';
import { uwsgiTcpName } from '../../src/config/uwsgi-sockets.js';
import type { VassalConfig } from '../../src/config/vassal-config.js';
import { reloadKind } from '../../src/vassal/reload-kind.js';
import { fakeHost } from '../support/config-host.js';

const FILE = '/srv/vassals/app.ini';
const UWSGI = '/usr/bin/uwsgi';

function read(lines: readonly string[], options: { defaults?: VassalDefaults; binary?: boolean; files?: Record<string, string> } = {}) {
  const text = ['[uwsgi]', ...lines, ''].join('\n');
  const host = fakeHost({ [FILE]: text, ...(options.binary === false ? {} : { [UWSGI]: '' }), ...options.files });
  const result = parseVassalText(text, FILE, { host, defaults: options.defaults });
  const found = (severity: string): string[] => result.diagnostics.filter((d) => d.severity === severity).map(formatDiagnostic);
  return { result, errors: found('error'), warnings: found('warning'), notes: found('note') };
}

function config(lines: readonly string[], options: Parameters<typeof read>[1] = {}): VassalConfig {
  const { result, errors } = read(lines, options);
  expect(errors).toEqual([]);
  if (!result.ok) throw new Error('no config');
  return result.config;
}

/** The command after the binary and --plugin: what the emperor adds around the file. */
const BASE = ['/usr/bin/uwsgi', '--plugin', 'python3', '--ini', FILE, '--master', '--need-app', '--set', 'vacuum=false'];

describe('a vassal file that configures a uWSGI app and has no command', () => {
  it("runs as one worker, uWSGI's master, started with that same file and the emperor's overrides", () => {
    const c = config(['socket = /run/app.sock', 'wsgi-file = app.py', 'processes = 4', 'threads = 2', 'harakiri = 30']);
    expect(c.command).toEqual([...BASE, '--socket', 'fd://3']);
    expect(c.processes).toBe(1);
    expect(c.chdir).toBe('/srv/vassals');
    expect(c.sockets.map((s) => [s.name, s.bindAs])).toEqual([['/run/app.sock', undefined]]);
    // uWSGI's emperor protocol on the fd after the sockets: ready when its first worker accepts (byte 5).
    expect({ fd: c.notificationFd, byte: c.readyByte, notify: c.notifySocket, env: c.env }).toEqual({ fd: 4, byte: 5, notify: false, env: { UWSGI_EMPEROR_FD: '4' } });
    expect(c.socketActivation).toBe(false);
    expect(c.stopFifo).toEqual({ text: 'q', env: 'UWSGI_MASTER_FIFO' });
    expect({ signal: c.stopSignal, mode: c.killMode, mercy: c.mercyMs }).toEqual({ signal: 'SIGINT', mode: 'mixed', mercy: 65_000 });
    expect({ lifetime: c.maxLifetimeMs, rss: c.reloadOnRssBytes, stopFirst: c.stopFirst }).toEqual({ lifetime: 0, rss: 0, stopFirst: undefined });
    expect(c.uwsgiApp?.trigger).toBe('wsgi-file');
  });

  it('passes options only uWSGI knows without a note; a key neither knows is still an unknown option, with uWSGI names suggested', () => {
    const { notes, warnings } = read(['module = wsgi:app', 'master = true', 'enable-threads', 'harakiri = 20', 'logto = /var/log/app.log', 'harakri = 30', 'wsgi_file = x.py', 'frobnicate = 1']);
    expect(notes.filter((n) => !n.includes('runs as a uWSGI app'))).toEqual([]);
    expect(warnings).toEqual([
      `${FILE}:7: warning: unknown option "harakri"; did you mean harakiri?`,
      `${FILE}:8: warning: unknown option "wsgi_file"; did you mean wsgi-file?`,
      `${FILE}:9: warning: unknown option "frobnicate"`,
    ]);
  });

  it('says in --check which options the emperor takes over, and how it starts uWSGI', () => {
    const { notes } = read(['socket = /run/app.sock', 'chmod-socket = 660', 'uid = www-data', 'gid = www-data', 'vacuum = true', 'module = wsgi']);
    expect(notes).toEqual([
      `${FILE}:7: note: runs as a uWSGI app (module): one worker, uWSGI's master, started as ${[...BASE, '--socket', 'fd://3'].join(' ')}; the emperor takes over socket, chmod-socket, uid, gid, vacuum; a reload starts a new master and stops the old one with q on its master FIFO once the new one is ready`,
    ]);
  });

  it('keeps each socket line\'s protocol: the fd is passed under the option that named it', () => {
    const c = config(['http-socket = /run/a.sock', 'uwsgi-socket = 127.0.0.1:3031', 'socket = :3032', 'module = wsgi']);
    expect(c.command.slice(BASE.length)).toEqual(['--http-socket', 'fd://3', '--uwsgi-socket', 'fd://4', '--socket', 'fd://5']);
    expect(c.notificationFd).toBe(6);
  });

  it('binds a relative unix socket under the name the line gives, from the directory uWSGI resolves it against (its chdir)', () => {
    const plain = config(['socket = flaskr.sock', 'module = wsgi']);
    expect(plain.sockets.map((s) => [s.name, s.bindAs])).toEqual([['/srv/vassals/flaskr.sock', { dir: '/srv/vassals', name: 'flaskr.sock' }]]);
    const moved = config(['chdir = /var/www/app', 'socket = run/app.sock', 'module = wsgi']);
    expect(moved.sockets.map((s) => [s.name, s.bindAs])).toEqual([['/var/www/app/run/app.sock', { dir: '/var/www/app', name: 'run/app.sock' }]]);
    // uWSGI compares the line with the socket's own name as a string: "/run//a.sock" is bound as written too.
    expect(config(['socket = /run//a.sock', 'module = wsgi']).sockets[0]?.bindAs).toEqual({ dir: '/srv/vassals', name: '/run//a.sock' });
  });

  it('leaves a TCP socket to uWSGI when uWSGI would name it otherwise (0.0.0.0:8000 is ":8000" to it): a reload then stops first, and --check says how to avoid that', () => {
    const { result, notes } = read(['socket = 0.0.0.0:8000', 'module = wsgi']);
    expect(result.ok && result.config.sockets).toEqual([]);
    expect(result.ok && result.config.stopFirst).toBe('socket = 0.0.0.0:8000 (line 2) is bound by uWSGI itself, and two masters cannot hold it at once');
    expect(notes[0]).toBe(
      `${FILE}:2: note: socket = 0.0.0.0:8000 is bound by uWSGI itself: the emperor's socket would have another name to uWSGI; write :8000, uWSGI's own name for it, and the emperor holds it across reloads`,
    );
    expect(config(['socket = localhost:8000', 'module = wsgi']).stopFirst).toMatch(/^socket = localhost:8000/);
    expect(uwsgiTcpName('0.0.0.0', 80)).toBe(':80');
    expect(uwsgiTcpName('::', 80)).toBe('[::]:80');
    expect(uwsgiTcpName('127.0.0.1', 80)).toBe('127.0.0.1:80');
  });

  it('refuses socket = systemd:NAME at its line: uWSGI knows an inherited socket by its address, not by systemd\'s name', () => {
    const { result, errors } = read(['socket = systemd:web', 'module = wsgi']);
    expect(result.ok).toBe(false);
    expect(errors).toEqual([
      `${FILE}:2: error: socket = systemd:web: a vassal run as a uWSGI app cannot take a socket by its systemd name (uWSGI knows an inherited socket by its address): write the address of the .socket unit's ListenStream=, and the emperor hands systemd's descriptor over`,
    ]);
  });

  it('stops first when uWSGI binds a port of its own (stats, http router), not for a unix path it binds itself', () => {
    expect(config(['socket = /run/a.sock', 'stats = 127.0.0.1:9191', 'module = wsgi']).stopFirst).toBe(
      'stats = 127.0.0.1:9191 (line 3) is bound by uWSGI itself, and two masters cannot hold it at once',
    );
    expect(config(['http = :8000', 'module = wsgi']).stopFirst).toMatch(/^http = :8000/);
    const unix = config(['socket = /run/a.sock', 'stats = /run/stats.sock', 'module = wsgi']);
    expect(unix.stopFirst).toBeUndefined();
    expect(unix.uwsgiApp?.uwsgiBinds).toEqual(['stats = /run/stats.sock']);
  });

  it('reads the options both sides know as uWSGI does: notify-socket is its socket path, processes its workers', () => {
    const c = config(['notify-socket = /run/notify.sock', 'processes = 8', 'max-worker-lifetime = 3600', 'reload-on-rss = 200', 'pidfile = /run/app.pid', 'die-on-term', 'module = wsgi']);
    expect({ p: c.processes, notify: c.notifySocket, life: c.maxLifetimeMs, rss: c.reloadOnRssBytes }).toEqual({ p: 1, notify: false, life: 0, rss: 0 });
    expect(read(['notify-socket = /run/notify.sock', 'pidfile = /run/app.pid', 'die-on-term', 'module = wsgi']).notes).toHaveLength(1);
  });

  it('gives the emperor mercy after uWSGI\'s own worker-reload-mercy', () => {
    expect(config(['worker-reload-mercy = 20', 'module = wsgi']).mercyMs).toBe(25_000);
  });

  it('lets daemonize log instead of forking (uWSGI under an emperor), and says so', () => {
    const { notes, errors } = read(['daemonize = /var/log/app.log', 'module = wsgi']);
    expect(errors).toEqual([]);
    expect(notes[0]).toBe(`${FILE}:2: note: daemonize: under the emperor uWSGI logs to /var/log/app.log instead of forking away, as under its own emperor`);
  });

  it('is an error at the trigger line when the uWSGI binary is missing, with how to install it (retried: outside the file)', () => {
    const { errors, result } = read(['module = wsgi'], { binary: false });
    expect(errors).toEqual([
      `${FILE}:2: error: module makes this a uWSGI app, which runs with uWSGI, but /usr/bin/uwsgi is not installed: apt-get install uwsgi-core uwsgi-plugin-python3 (Debian, Ubuntu), or pip install uwsgi and set the emperor's uwsgi-app-binary = /usr/local/bin/uwsgi; or give the vassal a command`,
    ]);
    expect(result.diagnostics.find((d) => d.severity === 'error')?.external).toBe(true);
  });

  it("uses the emperor's settings: another binary, no default plugins, the file's own plugins, templates and vassal-set", () => {
    const defaults: VassalDefaults = {
      include: [{ path: '/srv/base.ini', source: { file: '/srv/emperor.ini', line: 3 } }],
      set: [{ key: 'buffer-size', value: '32768', file: '/srv/emperor.ini', line: 4, bare: false }],
      uwsgiApp: { enabled: true, binary: '/opt/uwsgi/bin/uwsgi', plugins: '' },
    };
    const c = config(['module = wsgi'], { defaults, files: { '/opt/uwsgi/bin/uwsgi': '', '/srv/base.ini': '[uwsgi]\nmaster = true\n' } });
    expect(c.command).toEqual(['/opt/uwsgi/bin/uwsgi', '--ini', '/srv/base.ini', '--ini', FILE, '--set', 'buffer-size=32768', '--master', '--need-app', '--set', 'vacuum=false']);
    expect(config(['plugins = python311', 'module = wsgi']).command.slice(0, 3)).toEqual(['/usr/bin/uwsgi', '--ini', FILE]);
  });

  it('is off with uwsgi-app = false: such a file then needs a command, and the error says how', () => {
    const { errors } = read(['module = wsgi'], { defaults: { include: [], set: [], uwsgiApp: { enabled: false, binary: UWSGI, plugins: 'python3' } } });
    expect(errors).toEqual([
      `${FILE}: error: no "command" option: a vassal needs the program its workers run, e.g. command = node server.js; this file configures a uWSGI app (module at ${FILE}:2), which this emperor does not run by itself (uwsgi-app = false): run it as the command, e.g. command = uwsgi --plugin python3 --ini app.ini, or set uwsgi-app = true`,
    ]);
  });

  it('is not a uWSGI app when the file has a command, whatever else it says', () => {
    const c = config(['command = gunicorn wsgi:app', 'module = wsgi']);
    expect(c.command).toEqual(['gunicorn', 'wsgi:app']);
    expect(c.uwsgiApp).toBeUndefined();
  });

  it('with strict = true refuses the emperor\'s own options, on which uWSGI would exit', () => {
    const { errors } = read(['strict = true', 'ready-timeout = 30', 'module = wsgi']);
    expect(errors).toEqual([`${FILE}:3: error: ready-timeout is the emperor's option, and uWSGI started with strict = true exits on options it does not know; drop strict or this line`]);
  });

  it('reloadKind: a roll of the master when an option only uWSGI reads changes; a comment alone changes no option (the emperor still rolls on any change of content, as uWSGI does)', () => {
    const before = config(['module = wsgi', 'harakiri = 20']);
    expect(reloadKind(before, config(['module = wsgi', 'harakiri = 30']), false)).toBe('roll');
    expect(reloadKind(before, config(['; a comment', 'module = wsgi', 'harakiri = 20']), false)).toBe('none');
  });

  it("leaves uWSGI's own log options to uWSGI: the emperor opens no logto file for it, and dates none of its lines", () => {
    const c = config(['module = wsgi:app', 'logto = /var/log/app.log', 'log-maxsize = 1000000', 'log-date = true', 'worker-log-format = json']);
    expect(c.log).toMatchObject({ file: undefined, direct: false, date: undefined, format: 'json' });
    // uWSGI reads them from the file it is given: the command does not repeat them.
    expect(c.command.join(' ')).not.toContain('logto');
    // A command vassal's logto is the emperor's.
    const command = parseVassalText(['[uwsgi]', 'command = node app.js', 'logto = /var/log/app.log'].join('\n'), FILE, { host: fakeHost() });
    expect(command.ok && command.config.log.file?.path).toBe('/var/log/app.log');
  });

  it('triggers on a closed list of app loaders, each of which the not-applicable table\'s app group has', () => {
    for (const loader of APP_LOADERS) expect(findNotApplicable(loader.replace('*', 'docroot'))?.group.id, loader).toBe('app');
    expect(read(['threads = 4', 'enable-threads']).errors[0]).toMatch(/no "command" option.* but loads no app/);
  });
});

describe('stop-fifo', () => {
  it('stops a worker by writing to a FIFO whose path it gets in SUPERVISOR_STOP_FIFO, or the variable stop-fifo-env names', () => {
    expect(config(['command = my-server', 'stop-fifo = q']).stopFifo).toEqual({ text: 'q', env: 'SUPERVISOR_STOP_FIFO' });
    expect(config(['command = uwsgi --ini x.ini', 'stop-fifo = q', 'stop-fifo-env = UWSGI_MASTER_FIFO']).stopFifo).toEqual({ text: 'q', env: 'UWSGI_MASTER_FIFO' });
    expect(config(['command = my-server']).stopFifo).toBeUndefined();
  });

  it('refuses a variable the supervisor sets itself, and ignores an env line for the FIFO\'s variable', () => {
    expect(read(['command = x', 'stop-fifo = q', 'stop-fifo-env = LISTEN_FDS']).errors).toEqual([`${FILE}:4: error: stop-fifo-env = LISTEN_FDS: the supervisor sets that variable itself; name another one`]);
    expect(read(['command = x', 'stop-fifo = q', 'stop-fifo-env = UWSGI_MASTER_FIFO', 'env = UWSGI_MASTER_FIFO=/tmp/f']).warnings).toEqual([
      `${FILE}:5: warning: UWSGI_MASTER_FIFO is set by the supervisor (the path of the worker's stop FIFO); this env line is ignored`,
    ]);
    expect(read(['command = x', 'stop-fifo = ']).errors[0]).toMatch(/invalid value for stop-fifo: expected the text to write/);
  });
});
