import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { systemHost } from '../../src/config/config-host.js';
import { parseVassalText } from '../../src/config/load-vassal.js';
import { currentStamp, RACY, recordingHost, stampOf } from '../../src/config/recording-host.js';
import { sandbox } from '../support/sandbox.js';

const dir = sandbox();

describe('recordingHost', () => {
  it('records every file read, path asked about and directory listed by a config, with a stamp taken first', async () => {
    await writeFile(dir.file('inc.ini'), '[uwsgi]\nenv = A=1\n');
    await writeFile(dir.file('token'), 'secret-token');
    await mkdir(dir.file('apps'));
    await writeFile(dir.file('apps/one.conf'), '');
    const recorder = recordingHost(systemHost());
    const text = [
      '[uwsgi]',
      'command = sleep 1',
      'ini = inc.ini',
      `env = T=@(${dir.file('token')})`,
      `if-exists = ${dir.file('missing')}`,
      'env = NEVER=1',
      'endif =',
      `for-glob = ${dir.file('apps')}/*.conf`,
      'env = APP=%(_)',
      'endfor =',
    ].join('\n');
    const result = parseVassalText(text, dir.file('app.ini'), { host: recorder.host });
    expect(result.ok).toBe(true);
    const seen = recorder.observations().map((o) => [o.kind, o.path]);
    expect(seen).toEqual(
      expect.arrayContaining([
        ['read', dir.file('inc.ini')],
        ['kind', dir.file('missing')],
        ['list', dir.file('apps')],
        ['read', dir.file('token')],
      ]),
    );
    const token = recorder.observations().find((o) => o.path === dir.file('token'))!;
    // Only a hash of what was read is kept, never the text.
    expect(JSON.stringify(recorder.observations())).not.toContain('secret-token');
    expect(token.seen).toMatch(/^[0-9a-f]{32}$/);
    expect(recorder.observations().find((o) => o.path === dir.file('missing'))).toMatchObject({ kind: 'kind', seen: 'missing', stamp: 'missing' });
  });

  it('stamps change with content, and say "racy" for a file changed less than 2 s ago', async () => {
    const file = dir.file('f');
    await writeFile(file, 'one');
    const fresh = stampOf('read', file);
    expect(fresh.endsWith(RACY)).toBe(true);
    await writeFile(file, 'two!');
    expect(await currentStamp('read', file)).not.toBe(fresh);
    // A file nobody changed for a long time: a stamp that vouches for its content, the same every time.
    const old = stampOf('read', '/usr/bin/env');
    expect(old.endsWith(RACY)).toBe(false);
    expect(await currentStamp('read', '/usr/bin/env')).toBe(old);
    expect(stampOf('read', dir.file('nope'))).toBe('missing');
    expect(stampOf('kind', dir.path)).toBe('dir');
  });

  it.skipIf(process.getuid?.() !== 0)('stamps a path the reading user cannot stat as "denied"', async () => {
    const vault = dir.file('vault');
    await mkdir(vault, { mode: 0o700 });
    await chmod(dir.path, 0o755);
    const { execFileSync } = await import('node:child_process');
    const script = `import('${new URL('../../dist/config/recording-host.js', import.meta.url).pathname}').then((m) => process.stdout.write(m.stampOf('read', '${vault}/x')))`;
    const out = execFileSync('setpriv', ['--reuid', 'nobody', '--regid', 'nogroup', '--clear-groups', process.execPath, '-e', script], { encoding: 'utf8' });
    expect(out).toBe('denied');
  });
});
