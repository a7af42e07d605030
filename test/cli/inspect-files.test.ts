import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI, NODE } from '../support/emperor.js';
import { tempDir } from '../support/temp-dir.js';

let dir: { path: string; remove: () => Promise<void> };

beforeEach(async () => {
  dir = await tempDir('chk');
});

afterEach(() => dir.remove());

/** The real CLI in the test's directory, with a known environment (execa strips the final newline). */
function supervisor(args: readonly string[]) {
  return execa(NODE, [CLI, ...args], { cwd: dir.path, reject: false, env: { PATH: process.env.PATH ?? '', PORT: '8123' }, extendEnv: false });
}

async function write(name: string, lines: readonly string[]): Promise<string> {
  const file = path.join(dir.path, name);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

describe('supervisor --check', () => {
  it('prints every finding with file:line and a summary per file, and exits 1 when a file has an error', async () => {
    await write('good.ini', ['[uwsgi]', 'command = node app.js', 'socket = :$(PORT)', 'master = true']);
    await write('bad.ini', ['[uwsgi]', 'command = node app.js', 'processes = four', 'chmod-sock = 660']);
    const result = await supervisor(['--check', 'good.ini', 'bad.ini']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n')).toEqual([
      'good.ini:4: note: "master" is a uWSGI option, not applicable here (ignored): the supervisor itself is the master that starts, watches and restarts the workers; process names are those of the command',
      'good.ini: ok as a vassal (0 errors, 0 warnings, 1 note)',
      'bad.ini:3: error: invalid value for processes: expected an integer (workers), got "four"',
      'bad.ini:4: warning: unknown option "chmod-sock"; did you mean chmod-socket?',
      'bad.ini: not usable as a vassal (1 error, 1 warning, 0 notes)',
    ]);
  });

  it('exits 0 when every file is usable, emperor files included, and reports an unreadable file', async () => {
    await write('vassals/app.ini', ['[uwsgi]', 'command = node app.js']);
    await write('emperor.ini', ['[uwsgi]', 'emperor = vassals', 'pidfile = emperor.pid']);
    const ok = await supervisor(['--check', 'emperor.ini', 'vassals/app.ini']);
    expect(ok.stdout).toBe('emperor.ini: ok as an emperor (0 errors, 0 warnings, 0 notes)\nvassals/app.ini: ok as a vassal (0 errors, 0 warnings, 0 notes)');
    expect(ok.exitCode).toBe(0);
    const missing = await supervisor(['--check', 'nope.ini']);
    expect(missing.stdout).toBe('nope.ini: error: cannot read: no such file\nnope.ini: not usable as a vassal (1 error, 0 warnings, 0 notes)');
    expect(missing.exitCode).toBe(1);
  });

  it('applies --vassals-include and --vassal-set given with it, as the emperor would', async () => {
    await write('defaults.ini', ['[uwsgi]', 'socket = %N.sock', 'processes = 1']);
    await write('app.ini', ['[uwsgi]', 'command = node app.js']);
    const result = await supervisor(['--check', '--vassals-include', 'defaults.ini', '--vassal-set', 'processes=lots', 'app.ini']);
    expect(result.stdout).toBe('command line: error: invalid value for processes: expected an integer (workers), got "lots"\napp.ini: not usable as a vassal (1 error, 0 warnings, 0 notes)');
    expect(result.exitCode).toBe(1);
  });
});

describe('supervisor --show-config', () => {
  it('prints the expanded options on stdout and the findings on stderr', async () => {
    await write('common.ini', ['[uwsgi]', 'vacuum']);
    await write('app.ini', ['[uwsgi]', 'ini = common.ini', 'for = 1 2', 'socket = %n-%(_).sock', 'endfor', 'command = node app.js --port $(PORT)', 'threads = 4']);
    const result = await supervisor(['--show-config', 'app.ini']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(
      [
        '; supervisor --show-config app.ini (read as a vassal)',
        '; includes, logic blocks, magic variables and references are expanded; % is written %%',
        '[uwsgi]',
        `; from ${dir.path}/common.ini`,
        'vacuum',
        '; from app.ini',
        'socket = app-1.sock',
        'socket = app-2.sock',
        'command = node app.js --port 8123',
        'threads = 4',
      ].join('\n'),
    );
    expect(result.stderr).toMatch(/^app\.ini:7: note: "threads" is a uWSGI option, not applicable here \(ignored\)/);
  });

  it('exits 1 when the file has errors, still showing what was read', async () => {
    await write('app.ini', ['[uwsgi]', 'socket = :$(NOPE)']);
    const result = await supervisor(['--show-config', 'app.ini']);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('socket = :$(NOPE)');
    expect(result.stderr.split('\n')).toEqual([
      'app.ini: error: no "command" option: a vassal needs the program its workers run, e.g. command = node server.js',
      'app.ini:2: error: invalid value for socket: environment variable NOPE is not set (to give a default, write $(NOPE:-value))',
    ]);
  });
});

describe('file.ini:section on the command line', () => {
  const lines = ['[uwsgi]', 'command = node web.js', '[worker]', 'command = node jobs.js', 'processes = 3', 'procesess = 4'];

  it('--check reads the section named after the last colon, with its lines', async () => {
    await write('app.ini', lines);
    const result = await supervisor(['--check', 'app.ini:worker', 'app.ini']);
    expect(result.stdout.split('\n')).toEqual([
      'app.ini:6: warning: unknown option "procesess"; did you mean processes?',
      'app.ini:worker: ok as a vassal (0 errors, 1 warning, 0 notes)',
      'app.ini: ok as a vassal (0 errors, 0 warnings, 0 notes)',
    ]);
    const missing = await supervisor(['--check', 'app.ini:nope']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stdout).toContain('app.ini: error: no [nope] section; it has [uwsgi], [worker]');
  });

  it('--show-config shows that section as it is read', async () => {
    await write('app.ini', lines);
    const result = await supervisor(['--show-config', 'app.ini:worker']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('command = node jobs.js\nprocesses = 3');
    expect(result.stdout).not.toContain('web.js');
  });

  it('a file whose name has a colon is still read whole', async () => {
    await write('odd:name.ini', lines.slice(0, 2));
    const result = await supervisor(['--check', 'odd:name.ini']);
    expect(result.stdout).toBe('odd:name.ini: ok as a vassal (0 errors, 0 warnings, 0 notes)');
  });
});
