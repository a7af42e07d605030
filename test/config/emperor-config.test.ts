import { describe, expect, it } from 'vitest';
import { readVassalText } from '../../src/config/config-reader.js';
import { formatDiagnostic } from '../../src/config/diagnostic.js';
import { buildEmperorConfig, describesEmperor } from '../../src/config/emperor-config.js';
import { EMPEROR, PIDFILE } from '../../src/config/options/index.js';
import { References } from '../../src/config/references.js';
import { fakeHost } from '../support/config-host.js';

const FILE = '/etc/supervisor/emperor.ini';

function build(lines: readonly string[], files: Record<string, string> = {}) {
  const host = fakeHost(files);
  const read = readVassalText(['[uwsgi]', ...lines].join('\n'), FILE, host);
  return { read, built: buildEmperorConfig(read.entries, { references: new References(read.entries, host), tested: read.tested, host }) };
}

describe('emperor config', () => {
  it('is what a file with emperor = describes; paths resolve against the file, templates and vassal-set are kept with their lines', () => {
    const { read, built } = build(['emperor = vassals', 'emperor = %dmore', 'pidfile = run/emperor.pid', 'vassals-include = defaults.ini', 'vassal-set = processes = 2'], {
      '/etc/supervisor/defaults.ini': '[uwsgi]\n',
    });
    expect(describesEmperor(read.entries)).toBe(true);
    expect(built.ok).toBe(true);
    if (!built.ok) return;
    expect(built.config.values.all(EMPEROR)).toEqual(['/etc/supervisor/vassals', '/etc/supervisor/more']);
    expect(built.config.values.get(PIDFILE)).toBe('/etc/supervisor/run/emperor.pid');
    expect(built.config.vassalDefaults).toEqual({
      include: [{ path: '/etc/supervisor/defaults.ini', source: { file: FILE, line: 5 } }],
      set: [{ key: 'processes', value: '2', file: FILE, line: 6, bare: false }],
      uwsgiApp: { enabled: true, binary: '/usr/bin/uwsgi', plugins: 'python3' },
      account: [],
    });
  });

  it('refuses an unreadable template and a vassal-set without "="', () => {
    const { built } = build(['emperor = vassals', 'emperor = %dapp.ini', 'vassals-include = nope.ini', 'vassal-set = need-app']);
    expect(built.diagnostics.map(formatDiagnostic)).toEqual([
      `${FILE}:4: error: cannot read vassals-include /etc/supervisor/nope.ini: no such file`,
      `${FILE}:5: error: invalid value for vassal-set: expected name=value, got "need-app"`,
    ]);
  });

  it('warns about vassal options in the emperor\'s file, and notes uWSGI emperor features it does not have', () => {
    const { built } = build(['emperor = vassals', 'processes = 4', 'emperor-throttle = 1000']);
    expect(built.diagnostics.map(formatDiagnostic)).toEqual([
      `${FILE}:3: warning: option "processes" belongs in a vassal file; ignored here`,
      `${FILE}:4: note: "emperor-throttle" is a uWSGI option, not applicable here (ignored): this emperor watches directories of vassal .ini files and has no such feature`,
    ]);
  });
});

describe('logfile-chown on the emperor', () => {
  it('warns at its line when there is no log file or no account to give it to, and says nothing when both are there', () => {
    const said = (lines: string[]): string[] => build(['emperor = vassals', ...lines]).built.diagnostics.filter((d) => d.key === 'logfile-chown').map(formatDiagnostic);
    expect(said(['logfile-chown = true'])).toEqual([
      `${FILE}:3: warning: logfile-chown on the emperor does nothing without logto or daemonize (the emperor logs to its stdout) and uid or gid (the account to give it to)`,
    ]);
    expect(said(['logto = /var/log/emperor.log', 'logfile-chown = true'])).toEqual([
      `${FILE}:4: warning: logfile-chown on the emperor does nothing without uid or gid (the account to give it to)`,
    ]);
    expect(said(['daemonize = /var/log/emperor.log', 'uid = www-data', 'logfile-chown = true'])).toEqual([]);
  });
});
