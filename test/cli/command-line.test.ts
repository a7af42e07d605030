import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { parseCommandLine, UsageError } from '../../src/cli/command-line.js';
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

  it('refuses to start an emperor on a directory that does not exist', async () => {
    const result = await execa(NODE, [CLI, '--emperor', '/nonexistent/vassals'], { reject: false });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('emperor directory /nonexistent/vassals does not exist');
  });
});
