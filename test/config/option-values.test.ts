import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/config/diagnostic.js';
import { parseVassalText, type VassalDefaults } from '../../src/config/load-vassal.js';
import { findNotApplicable, NOT_APPLICABLE, OPTIONS } from '../../src/config/options/index.js';
import type { VassalConfigResult } from '../../src/config/vassal-config.js';
import { fakeHost } from '../support/config-host.js';

const FILE = '/srv/vassals/app.ini';

function parse(lines: readonly string[], options: { files?: Record<string, string>; env?: Record<string, string>; defaults?: VassalDefaults } = {}): VassalConfigResult {
  return parseVassalText(['[uwsgi]', ...lines].join('\n'), FILE, { host: fakeHost(options.files, { env: options.env }), defaults: options.defaults });
}

const diags = (result: VassalConfigResult): string[] => result.diagnostics.map(formatDiagnostic);

describe('unknown options', () => {
  it('warn with the nearest option, skipping one-letter shorthands, and suggest dashes for underscores', () => {
    expect(diags(parse(['command = x', 'chmod-sock = 660', 'cpu = 2', 'chmod_socket = 660', 'public_ip = 1.2.3.4']))).toEqual([
      `${FILE}:3: warning: unknown option "chmod-sock"; did you mean chmod-socket?`,
      `${FILE}:4: warning: unknown option "cpu"`,
      `${FILE}:5: warning: unknown option "chmod_socket"; did you mean chmod-socket?`,
      `${FILE}:6: warning: unknown option "public_ip"; as a placeholder it is not used: nothing refers to %(public_ip)`,
    ]);
  });

  it('are silent when used as placeholders, by %(name) or if-opt', () => {
    expect(parse(['project = yabi', 'base_dir = /srv', 'command = run %(project) %(base_dir)', 'if-opt = flag', 'endif', 'flag = 1']).diagnostics).toEqual([]);
  });

  it('are errors with strict = true, placeholders too (uWSGI: use set-placeholder in strict mode)', () => {
    expect(diags(parse(['strict', 'command = run %(project)', 'project = yabi', 'workerz = 2', 'set-ph = ok=1']))).toEqual([
      `${FILE}:4: error: "project" is not an option; with strict = true, define the placeholder with set-placeholder = project=yabi`,
      `${FILE}:5: error: unknown option "workerz"; did you mean workers? (an error because strict = true)`,
    ]);
    expect(parse(['strict = true', 'strict = false', 'command = x', 'workerz = 2']).ok).toBe(true);
  });

  it('of the other scope are warned about and ignored', () => {
    expect(diags(parse(['command = x', 'emperor = /srv/vassals', 'vassal-set = a=b']))).toEqual([
      `${FILE}:3: warning: option "emperor" belongs in the emperor; ignored here`,
      `${FILE}:4: warning: option "vassal-set" belongs in the emperor; ignored here`,
    ]);
  });
});

describe('uWSGI options that do not apply', () => {
  it('are a note once per key, with the hint of their group, and never parsed', () => {
    expect(diags(parse(['command = x', 'module = wsgi:app', 'master = ture', 'module = other', 'attach-daemon = celery', 'show-config']))).toEqual([
      `${FILE}:3: note: "module" is a uWSGI option, not applicable here (ignored): it tells uWSGI how to run the app in its own workers: a vassal file without command that loads an app (module, wsgi-file, ...) runs with uWSGI itself (uwsgi-app), and one with a command runs that instead, e.g. command = gunicorn wsgi:app`,
      `${FILE}:4: note: "master" is a uWSGI option, not applicable here (ignored): the supervisor itself is the master that starts, watches and restarts the workers; process names are those of the command`,
      `${FILE}:6: note: "attach-daemon" is a uWSGI option, not applicable here (ignored): run it as a vassal of its own (its own file with command = ...), or from cron or a systemd timer`,
      `${FILE}:7: note: "show-config" is a uWSGI option, not applicable here (ignored): to see the options as read, run supervisor --show-config FILE`,
    ]);
  });

  it('cover the issue\'s examples, match prefixes, and never shadow an option of the table', () => {
    for (const key of ['module', 'wsgi-file', 'callable', 'plugins', 'threads', 'enable-threads', 'harakiri', 'buffer-size', 'http-timeout', 'emperor-on-demand-dir']) {
      expect(findNotApplicable(key), key).toBeDefined();
    }
    expect(findNotApplicable('emperor-on-demand-dir')?.group.id).toBe('emperor');
    for (const key of ['uid', 'gid', 'die-on-term', 'touch-reload', 'emperor-tyrant', 'pidfile', 'daemonize', 'logto', 'log-maxsize', 'max-worker-lifetime', 'reload-on-rss', 'emperor-freq']) {
      expect(findNotApplicable(key), `${key} is left for the options being added on other branches`).toBeUndefined();
    }
    const exact = new Set(NOT_APPLICABLE.flatMap((g) => g.names.filter((n) => !n.endsWith('*'))));
    for (const spec of OPTIONS) for (const name of [spec.name, ...(spec.aliases ?? [])]) expect(exact.has(name), name).toBe(false);
  });

  it('make the missing-command error point at the uWSGI app line when the file loads no app (one that does runs with uWSGI)', () => {
    expect(diags(parse(['callable = app', 'socket = app.sock'])).filter((d) => d.includes('error'))).toEqual([
      `${FILE}: error: no "command" option: a vassal needs the program its workers run, e.g. command = node server.js; this file configures uWSGI's own app loading (callable at ${FILE}:2) but loads no app (module, wsgi, wsgi-file, file, ...): run the app server as the command, e.g. command = uwsgi --plugin python3 --module wsgi:app, or command = gunicorn wsgi:app`,
    ]);
  });
});

describe('values', () => {
  it('explain that uWSGI has no inline comments: an error for typed options, even ones that would parse', () => {
    expect(diags(parse(['command = x', 'socket = 127.0.0.1:3000 ; nginx', 'chdir = /srv/app  # prod', 'processes = 4 # four']))).toEqual([
      `${FILE}:3: error: invalid value for socket: a socket address has no spaces, got "127.0.0.1:3000 ; nginx". uWSGI has no inline comments: everything after "=" is the value; put the comment on a line of its own`,
      `${FILE}:4: error: invalid value for chdir: "/srv/app  # prod" has what looks like a comment; uWSGI has no inline comments: everything after "=" is the value; put the comment on a line of its own`,
      `${FILE}:5: error: invalid value for processes: expected an integer (workers), got "4 # four". uWSGI has no inline comments: everything after "=" is the value; put the comment on a line of its own`,
    ]);
  });

  it('only warn about a comment-like free-text value, and let a quoting parser judge its own', () => {
    const result = parse(["command = sh -c 'migrate ; exec app'", 'env = GREETING=hi # there']);
    expect(result.ok && result.config.command).toEqual(['sh', '-c', 'migrate ; exec app']);
    expect(diags(result)).toEqual([
      `${FILE}:3: warning: the value of env contains what looks like a comment ("GREETING=hi # there"); uWSGI has no inline comments: everything after "=" is the value; put the comment on a line of its own`,
    ]);
  });

  it('are strict: booleans, integers and units refuse what uWSGI would silently accept', () => {
    expect(diags(parse(['command = x', 'vacuum = ture', 'processes = 4.5', 'worker-reload-mercy = 10s', 'chmod-socket = 0o660']))).toEqual([
      `${FILE}:3: error: invalid value for vacuum: expected true/false (also on/off, yes/no, 1/0), got "ture"`,
      `${FILE}:4: error: invalid value for processes: expected an integer (workers), got "4.5"`,
      `${FILE}:5: error: invalid value for worker-reload-mercy: expected a number of seconds (e.g. 10 or 0.5), got "10s"`,
      `${FILE}:6: error: invalid value for chmod-socket: expected an octal mode such as 660, got "0o660"`,
    ]);
    const ok = parse(['command = x', 'vacuum = OFF', 'processes = +3']);
    expect(ok.ok && [ok.config.vacuum, ok.config.processes]).toEqual([false, 3]);
  });

  it('of options we use must expand: unset variables, unknown placeholders, stray % are errors with file:line', () => {
    expect(diags(parse(['command = run %(app) %V', 'socket = :$(PORT)', 'chdir = @(exec://pwd)', 'log-format = %(status) $(UNSET) %V']))).toEqual([
      `${FILE}:2: error: invalid value for command: %V is not a magic variable this reader knows (docs/options.md lists them); write %% for a literal %; no option or placeholder named "app" for %(app)`,
      `${FILE}:3: error: invalid value for socket: environment variable PORT is not set (to give a default, write $(PORT:-value))`,
      `${FILE}:4: error: invalid value for chdir: @(exec://pwd) reads from exec://, which is not supported here; only @(path) of a file is`,
      `${FILE}:5: note: "log-format" is a uWSGI option, not applicable here (ignored): workers' output goes to the supervisor's log, or to a logto file (see docs/options.md for the log options this supervisor has); request logging is the business of the server your command runs (e.g. uwsgi --logformat ..., gunicorn --access-logfile -)`,
    ]);
  });

  it('expand references, then resolve relative paths against the vassal directory', () => {
    const result = parse(['base = app', 'command = node %(base).js', 'socket = $(RUN:-run)/%(base).sock', 'listen = @(somaxconn)'], { files: { '/srv/vassals/somaxconn': '4096\n' } });
    expect(result.ok && [result.config.command, result.config.sockets.map((s) => [s.name, s.backlog])]).toEqual([
      ['node', 'app.js'],
      [['/srv/vassals/run/app.sock', 4096]],
    ]);
  });

  it('hint at $(NAME) when a shell ${NAME} was not expanded, and refuse a value with a line break', () => {
    expect(diags(parse(['command = x', 'processes = ${WORKERS:-4}', 'chdir = @(two-lines)'], { files: { '/srv/vassals/two-lines': 'a\nb\n' } }))).toEqual([
      `${FILE}:3: error: invalid value for processes: expected an integer (workers), got "\${WORKERS:-4}". \${...} is shell syntax, which is not expanded here; write $(NAME) or $(NAME:-default)`,
      `${FILE}:4: error: invalid value for chdir: the value has a line break (from @(file) or $(ENV)?); an option value is one line`,
    ]);
  });
});

describe('emperor defaults for vassals', () => {
  it('prepend vassals-include templates and append vassal-set options, which win as the last value', () => {
    const defaults: VassalDefaults = {
      include: [{ path: '/etc/sv/base.ini', source: { file: '/etc/sv/emperor.ini', line: 2 } }],
      set: [{ key: 'processes', value: '3', file: '/etc/sv/emperor.ini', line: 3, bare: false }],
    };
    const result = parse(['command = node app.js', 'processes = 8'], { files: { '/etc/sv/base.ini': '[uwsgi]\nsocket = /run/%N.sock\nprocesses = 1\n' }, defaults });
    expect(result.ok && [result.config.processes, result.config.sockets.map((s) => s.name)]).toEqual([3, ['/run/app.sock']]);
  });
});
