import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/config/diagnostic.js';
import { parseVassalText } from '../../src/config/load-vassal.js';
import { optionDiagnostic } from '../../src/config/vassal-config.js';
import { fakeHost } from '../support/config-host.js';

const FILE = '/srv/vassals/app.ini';

function errors(text: string): string[] {
  const result = parseVassalText(text, FILE);
  return result.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
}

describe('vassal config', () => {
  it('reads the options of the walking skeleton, resolving relative paths against the vassal directory', () => {
    const result = parseVassalText(
      ['[uwsgi]', 'command = node "my app.js" --flag', 'processes = 3', 'socket = run/app.sock', 'socket = 127.0.0.1:8000', 'chmod-socket', 'vacuum', 'env = A=1', 'env = B=x=y', 'chdir = ../app', ''].join('\n'),
      FILE,
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const c = result.config;
    expect(c.name).toBe('app.ini');
    expect(c.command).toEqual(['node', 'my app.js', '--flag']);
    expect(c.processes).toBe(3);
    expect(c.sockets.map((s) => s.name)).toEqual(['/srv/vassals/run/app.sock', '127.0.0.1:8000']);
    expect(c.sockets[0]?.mode).toBe(0o666);
    expect(c.sockets[1]?.mode).toBeUndefined();
    expect(c.vacuum).toBe(true);
    expect(c.env).toEqual({ A: '1', B: 'x=y' });
    expect(c.chdir).toBe('/srv/app');
    expect(c.mercyMs).toBe(10_000);
  });

  it('reads socket = systemd:NAME as the socket systemd passes by that name, keeping the order; a bad name is an error at its line', () => {
    const result = parseVassalText(['[uwsgi]', 'command = x', 'socket = systemd:api', 'socket = run/app.sock', 'socket = systemd:web', 'chmod-socket = 660', ''].join('\n'), FILE);
    expect(result.ok && result.config.sockets.map((s) => [s.name, s.address, s.mode])).toEqual([
      ['systemd:api', { kind: 'systemd', name: 'api' }, 0o660],
      ['/srv/vassals/run/app.sock', { kind: 'unix', path: '/srv/vassals/run/app.sock' }, 0o660],
      ['systemd:web', { kind: 'systemd', name: 'web' }, 0o660],
    ]);
    expect(errors('[uwsgi]\ncommand = x\nsocket = systemd:a:b\n')).toEqual([
      `${FILE}:3: error: invalid value for socket: systemd:NAME: "a:b" is not a FileDescriptorName= (at most 255 printable ASCII characters, no ':')`,
    ]);
  });

  it('defaults: one process, no sockets, workers start in the vassal directory', () => {
    const result = parseVassalText('[uwsgi]\ncommand = sleep 100\n', FILE);
    expect(result.ok && { p: result.config.processes, s: result.config.sockets, d: result.config.chdir }).toEqual({ p: 1, s: [], d: '/srv/vassals' });
  });

  it('requires a command', () => {
    expect(errors('[uwsgi]\nprocesses = 2\n')).toEqual([
      '/srv/vassals/app.ini: error: no "command" option: a vassal needs the program its workers run, e.g. command = node server.js',
    ]);
  });

  it('names the file and line of a bad number', () => {
    expect(errors('[uwsgi]\ncommand = x\n\nprocesses = 4 workers\n')).toEqual([
      '/srv/vassals/app.ini:4: error: invalid value for processes: expected an integer (workers), got "4 workers"',
    ]);
  });

  it('explains that uWSGI has no inline comments when a typed value carries one', () => {
    expect(errors('[uwsgi]\ncommand = x\nsocket = 127.0.0.1:3000 ; nginx\n')).toEqual([
      '/srv/vassals/app.ini:3: error: invalid value for socket: a socket address has no spaces, got "127.0.0.1:3000 ; nginx". uWSGI has no inline comments: everything after "=" is the value; put the comment on a line of its own',
    ]);
  });

  it('refuses shell operators in command, since no shell runs it', () => {
    expect(errors('[uwsgi]\ncommand = node app.js | tee log\n')).toEqual([
      '/srv/vassals/app.ini:2: error: invalid value for command: shell operator "|" is not supported because no shell runs the command; use command = sh -c \'...\' if you need one',
    ]);
  });

  it('reports a file without a [uwsgi] section, naming the sections it has', () => {
    expect(errors('[app]\ncommand = x\n[other]\n')).toEqual(['/srv/vassals/app.ini: error: no [uwsgi] or [supervisor] section; it has [app], [other]']);
  });

  it('reports an unterminated section header and a conflict marker with their lines', () => {
    expect(errors('[uwsgi\ncommand = x\n')).toContain('/srv/vassals/app.ini:1: error: section header "[uwsgi" has no closing "]"');
    expect(errors('[uwsgi]\ncommand = x\n<<<<<<< HEAD\n')).toContain(
      '/srv/vassals/app.ini:3: error: git merge-conflict marker "<<<<<<<": resolve the conflict before using this file',
    );
  });

  it('warns about an unknown option with the nearest known one', () => {
    const result = parseVassalText('[uwsgi]\ncommand = x\nchmod-sock = 660\n', FILE);
    expect(result.ok).toBe(true);
    expect(result.diagnostics.map(formatDiagnostic)).toEqual(['/srv/vassals/app.ini:3: warning: unknown option "chmod-sock"; did you mean chmod-socket?']);
  });

  it('tolerates CRLF line endings and a missing final newline', () => {
    const result = parseVassalText('[uwsgi]\r\ncommand = sleep 1\r\nprocesses = 2', FILE);
    expect(result.ok && result.config.processes).toBe(2);
  });

  it('refuses a notification fd that would collide with a socket fd', () => {
    expect(errors('[uwsgi]\ncommand = x\nsocket = a.sock\nsocket = b.sock\nnotification-fd = 4\n')).toEqual([
      '/srv/vassals/app.ini:5: error: notification-fd 4 collides with the sockets on fd 3..4; use 5 or more, or auto',
    ]);
  });
});

describe('vassal config errors caused outside the file', () => {
  it('mark an unset $(VAR) and an unreadable @(file) external, a bad value not', () => {
    const result = parseVassalText(['[uwsgi]', 'command = sleep 1', 'socket = :$(PORT)', 'env = T=@(/nonexistent/token)', 'processes = lots'].join('\n'), FILE);
    expect(result.diagnostics.filter((d) => d.severity === 'error').map((d) => [d.line, d.external === true])).toEqual([
      [3, true],
      [4, true],
      [5, false],
    ]);
  });
});

describe('where each option was written', () => {
  it('records the file and line of every option, an included file\'s own for what it set, and reports later findings there', () => {
    const host = fakeHost({ '/srv/vassals/common.ini': '[uwsgi]\n; shared by every app\nuid = www-data\nprocesses = 2\n' });
    const result = parseVassalText(['[uwsgi]', 'command = node app.js', 'ini = common.ini', 'processes = 4', ''].join('\n'), FILE, { host });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.lines).toMatchObject({
      command: { file: FILE, line: 2 },
      uid: { file: '/srv/vassals/common.ini', line: 3 },
      // The last value counts, and it is the vassal file's.
      processes: { file: FILE, line: 4 },
    });
    expect(formatDiagnostic(optionDiagnostic(result.config, 'uid', 'emperor-tyrant: uid = www-data, but the file is owned by uid 1000'))).toBe(
      '/srv/vassals/common.ini:3: error: emperor-tyrant: uid = www-data, but the file is owned by uid 1000',
    );
    expect(formatDiagnostic(optionDiagnostic(result.config, 'gid', 'no gid given'))).toBe(`${FILE}: error: no gid given`);
  });
});

describe('options that mean something else in a command vassal (uWSGI files carry them)', () => {
  it('daemonize is read as logto to that file, with a warning at its line; ignored, with a warning, when logto is set', () => {
    const result = parseVassalText(['[uwsgi]', 'command = sleep 100', 'daemonize = /var/log/app.log', ''].join('\n'), FILE);
    expect(result.ok && result.config.log.file?.path).toBe('/var/log/app.log');
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([
      `${FILE}:3: warning: daemonize in a vassal: its workers are not put in the background (the emperor supervises them); read as logto = /var/log/app.log`,
    ]);
    const both = parseVassalText(['[uwsgi]', 'command = sleep 100', 'logto = /var/log/real.log', 'daemonize = /var/log/app.log', ''].join('\n'), FILE);
    expect(both.ok && both.config.log.file?.path).toBe('/var/log/real.log');
    expect(both.diagnostics.map(formatDiagnostic)).toEqual([
      `${FILE}:4: warning: daemonize in a vassal: its workers are not put in the background (the emperor supervises them); ignored, since logto or logto2 is set`,
    ]);
  });

  it('pidfile says at its line what it means here (no master to write) and what to use instead', () => {
    const result = parseVassalText(['[uwsgi]', 'command = sleep 100', 'pidfile = /run/app.pid', ''].join('\n'), FILE);
    expect(result.ok).toBe(true);
    const said = result.diagnostics.map(formatDiagnostic);
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(new RegExp(`^${FILE}:3: (note|warning): `));
    expect(said[0]).toContain('a vassal run by a command has no master');
    expect(said[0]).toContain('touch-reload or supervisor --reload-vassal NAME');
  });
});
