import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { parseCommandLine, UsageError } from '../../src/cli/command-line.js';
import { parseControlLine } from '../../src/cli/control-line.js';
import { CLI, NODE } from '../support/emperor.js';

describe('command line', () => {
  it('turns options into entries, in order, like ini lines', () => {
    const command = parseCommandLine(['--emperor', 'vassals', '--pidfile', 'x.pid', '-p', '4', '--vacuum']);
    expect(command).toEqual({
      type: 'run',
      positionals: [],
      entries: [
        { key: 'emperor', value: 'vassals', bare: false, file: 'command line', line: 0 },
        { key: 'pidfile', value: 'x.pid', bare: false, file: 'command line', line: 0 },
        { key: 'processes', value: '4', bare: false, file: 'command line', line: 0 },
        { key: 'vacuum', value: '', bare: true, file: 'command line', line: 0 },
      ],
    });
  });

  it('reads control commands', () => {
    expect(parseCommandLine(['--reload', 'a.pid'])).toEqual({ type: 'reload', pidfile: 'a.pid' });
    expect(parseCommandLine(['--stop', 'a.pid', '--stop-timeout', '5'])).toEqual({ type: 'stop', pidfile: 'a.pid', timeoutMs: 5000 });
    expect(parseCommandLine(['--help'])).toEqual({ type: 'help' });
    expect(parseCommandLine(['-V'])).toEqual({ type: 'version' });
  });

  it('reads a bare FILE.ini (or FILE.ini:section) as --ini FILE, in argument order, as uWSGI does', () => {
    const entry = (key: string, value: string) => ({ key, value, bare: false, file: 'command line', line: 0 });
    expect(parseCommandLine(['-p', '2', 'app.ini', '--ini', 'more.ini:extra', 'other.ini:x'])).toEqual({
      type: 'run',
      positionals: [],
      entries: [entry('processes', '2'), entry('ini', 'app.ini'), entry('ini', 'more.ini:extra'), entry('ini', 'other.ini:x')],
    });
    expect(parseCommandLine(['app.conf'])).toMatchObject({ type: 'run', positionals: ['app.conf'], entries: [] });
  });

  it('reads --check FILE... and --show-config FILE, with the other flags as entries', () => {
    expect(parseCommandLine(['--check', 'a.ini', 'b.ini', '--vassal-set', 'processes=2'])).toEqual({
      type: 'check',
      files: ['a.ini', 'b.ini'],
      entries: [{ key: 'vassal-set', value: 'processes=2', bare: false, file: 'command line', line: 0 }],
    });
    expect(parseCommandLine(['--show-config', 'app.ini'])).toEqual({ type: 'show-config', files: ['app.ini'], entries: [] });
    expect(() => parseCommandLine(['--check'])).toThrow(new UsageError('--check needs the files to read, e.g. supervisor --check app.ini'));
    expect(() => parseCommandLine(['--show-config', 'a.ini', 'b.ini'])).toThrow(new UsageError('--show-config reads one file'));
  });

  it('reads the commands to a running emperor: --status [SOCKET], --metrics, --reload-vassal, --restart-worker, --logs', () => {
    const control = (action: unknown, socket?: string, json = false) => ({ type: 'control', action, socket, json });
    expect(parseCommandLine(['--status'])).toEqual(control({ kind: 'status' }));
    expect(parseCommandLine(['--status', '/run/x.sock', '--json'])).toEqual(control({ kind: 'status' }, '/run/x.sock', true));
    expect(parseCommandLine(['--metrics', '--control-socket', '/run/x.sock'])).toEqual(control({ kind: 'metrics' }, '/run/x.sock'));
    expect(parseCommandLine(['--reload-vassal', 'app.ini'])).toEqual(control({ kind: 'reload-vassal', vassal: 'app.ini' }));
    expect(parseCommandLine(['--restart-worker', 'app.ini:2', '--force'])).toEqual(control({ kind: 'restart-worker', vassal: 'app.ini', worker: 2, force: true }));
    // A vassal name may itself hold a colon: the id is after the last one.
    expect(parseCommandLine(['--restart-worker', 'a:b.ini:12'])).toMatchObject({ action: { vassal: 'a:b.ini', worker: 12 } });
    expect(parseCommandLine(['--logs', 'app', '--follow', '--lines', '5'])).toEqual(control({ kind: 'logs', vassal: 'app', follow: true, lines: 5 }));
    // --reload with --wait goes through the control socket, and waits for the rolls.
    expect(parseCommandLine(['--reload', '/run/e.pid', '--wait'])).toEqual(control({ kind: 'reload-all', emperor: '/run/e.pid' }));
    expect(parseCommandLine(['--reload', '42', '--wait', '--control-socket', '/run/x.sock', '--json'])).toEqual(control({ kind: 'reload-all', emperor: '42' }, '/run/x.sock', true));
    expect(() => parseCommandLine(['--wait'])).toThrow(new UsageError('--wait goes with --reload'));
    expect(() => parseCommandLine(['--reload', 'e.pid', '--wait', '--emperor', 'x'])).toThrow(new UsageError('--reload talks to a running emperor: it takes no option --emperor (only --control-socket PATH)'));
  });

  it('refuses a control command with the wrong company, and --json where uWSGI would read a JSON config', () => {
    expect(() => parseCommandLine(['--json', 'app.json'])).toThrow(
      new UsageError("--json goes with --status, --reload-vassal, --restart-worker or --logs (uWSGI's json option, a config in JSON, is not supported: write an ini file)"),
    );
    expect(() => parseCommandLine(['--follow'])).toThrow(new UsageError('--follow goes with --logs'));
    expect(() => parseCommandLine(['--status', '--force'])).toThrow(new UsageError('--force goes with --restart-worker'));
    expect(() => parseCommandLine(['--status', '--metrics'])).toThrow(new UsageError('one command at a time: --status and --metrics'));
    expect(() => parseCommandLine(['--status', '--emperor', 'x'])).toThrow(new UsageError('--status talks to a running emperor: it takes no option --emperor (only --control-socket PATH)'));
    expect(() => parseCommandLine(['--restart-worker', 'app.ini'])).toThrow(new UsageError('--restart-worker expects NAME:ID (a vassal and a worker id from 1), got "app.ini"'));
    expect(() => parseCommandLine(['--restart-worker', 'app.ini:0'])).toThrow(UsageError);
    expect(() => parseCommandLine(['--logs', 'app', '--lines', 'ten'])).toThrow(new UsageError('--lines expects a number of lines, got "ten"'));
    expect(() => parseCommandLine(['--metrics', 'extra'])).toThrow(new UsageError('unexpected argument "extra" with --metrics'));
  });

  it('reads the commands to a running emperor without the option table, to the same command or the same error', () => {
    const outcome = (parse: () => unknown) => {
      try {
        return { command: parse() };
      } catch (err) {
        return { error: (err as Error).message };
      }
    };
    const lines = [
      ['--status'],
      ['--status', '/run/x.sock', '--json'],
      ['--status', '--control-socket', 'rel.sock'],
      ['--metrics', '--control-socket', '/run/x.sock'],
      ['--reload-vassal', 'app.ini', '--json'],
      ['--restart-worker', 'a:b.ini:12', '--force'],
      ['--restart-worker', 'app.ini:0'],
      ['--logs', 'app', '--follow', '--lines', '5'],
      ['--logs', 'app', '--lines', 'ten'],
      ['--reload', 'e.pid'],
      ['--reload', '42', '--wait', '--control-socket', '/run/x.sock'],
      ['--reload', 'e.pid', 'extra', '--wait'],
      ['--reopen-logs', 'e.pid'],
      ['--stop', 'e.pid', '--stop-timeout', '5'],
      ['--stop', 'e.pid', '--stop-timeout', 'soon'],
      ['--help'],
      ['-V'],
      ['--wait'],
      ['--follow'],
      ['--json'],
      ['--status', '--metrics'],
      ['--metrics', 'extra'],
    ];
    for (const argv of lines) {
      const fast = outcome(() => parseControlLine(argv));
      expect(fast, argv.join(' ')).not.toEqual({ command: undefined });
      expect(fast, argv.join(' ')).toEqual(outcome(() => parseCommandLine(argv)));
    }
    // Anything else is left to the full reader: options of the table, a config to run or read, nothing at all.
    for (const argv of [['--status', '--emperor', 'x'], ['--emperor', 'vassals'], ['app.ini'], ['--check', 'a.ini'], ['--status', '--control-socket'], []]) {
      expect(parseControlLine(argv), argv.join(' ')).toBeUndefined();
    }
  });

  it('loads neither the option table nor the config reader for --status', async () => {
    // A module hook that names every module of this project's dist/ that is loaded (node:module register, Node 20.6+).
    const hooks = `export async function resolve(s, c, next) { const r = await next(s, c); if (r.url.includes('/dist/')) process.stderr.write('loaded ' + r.url.replace(/.*\\/dist\\//, '') + '\\n'); return r; }`;
    const register = `import { register } from 'node:module'; register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hooks)}));`;
    const run = await execa(NODE, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, CLI, '--status', '/nonexistent/control.sock'], { reject: false });
    expect(run.exitCode).toBe(1);
    const loaded = run.stderr.split('\n').filter((l) => l.startsWith('loaded ')).map((l) => l.slice('loaded '.length));
    expect(loaded).toContain('cli/control-command.js');
    expect(loaded).toContain('control/control-client.js');
    expect(loaded.filter((m) => /^(config|logs|emperor|vassal|worker|socket)\//.test(m) || m === 'cli/command-line.js')).toEqual([]);
    expect(run.stderr).toContain('no control socket at /nonexistent/control.sock');
  });

  it('names an unknown flag, with a suggestion', () => {
    expect(() => parseCommandLine(['--emporer', 'x'])).toThrow(new UsageError('unknown option --emporer; did you mean --emperor? (supervisor --help lists them all)'));
  });

  it('says which option lacks its value', () => {
    expect(() => parseCommandLine(['--pidfile'])).toThrow(new UsageError('option --pidfile needs a value'));
  });

  it('exits 2 with the message for an unknown flag, and prints help and version', async () => {
    const bad = await execa(NODE, [CLI, '--frobnicate'], { reject: false });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/^supervisor: unknown option --frobnicate/);
    const help = await execa(NODE, [CLI, '--help']);
    expect(help.stdout).toContain('--emperor');
    expect(help.stdout).toContain('worker-reload-mercy');
    const version = await execa(NODE, [CLI, '--version']);
    expect(version.stdout).toMatch(/^supervisor \d+\.\d+\.\d+$/);
  });

  it('says what to run when given nothing, refuses a non-ini argument, and names an unreadable --ini file', async () => {
    const none = await execa(NODE, [CLI], { reject: false });
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toBe('supervisor: nothing to run: give --emperor DIR, or a vassal file (supervisor app.ini); see supervisor --help');
    const other = await execa(NODE, [CLI, 'app.conf'], { reject: false });
    expect(other.exitCode).toBe(2);
    expect(other.stderr).toBe('supervisor: unexpected argument "app.conf" (config files end in .ini; see supervisor --help)');
    const missing = await execa(NODE, [CLI, '/nonexistent/app.ini'], { reject: false });
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toBe('supervisor: command line: error: cannot read ini = /nonexistent/app.ini (/nonexistent/app.ini): no such file');
  });

  it('lists the config language options in --help', async () => {
    const help = await execa(NODE, [CLI, '--help']);
    expect(help.stdout).toContain('Config language (for, if-*, magic variables and placeholders: docs/options.md):\n  --ini, --include VALUE');
    expect(help.stdout).toContain('supervisor --check FILE.ini...');
  });

  it('refuses to start an emperor on a directory that does not exist', async () => {
    const result = await execa(NODE, [CLI, '--emperor', '/nonexistent/vassals'], { reject: false });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('emperor directory /nonexistent/vassals does not exist');
  });
});
