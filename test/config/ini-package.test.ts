// Why the reader is ours and not the `ini` package (README, design notes): these are the differences, pinned down.
import ini from 'ini';
import { describe, expect, it } from 'vitest';
import { splitIniLines } from '../../src/config/ini-lines.js';

const TEXT = ['[uwsgi]', 'socket = 127.0.0.1:3000 ; nginx', 'env = A=1', 'env = B=2', '[a.b]', 'x = 1', ''].join('\n');

describe('the ini package cannot read vassal files as uWSGI does', () => {
  it('strips what uWSGI keeps as part of the value (no inline comments in uWSGI)', () => {
    expect((ini.parse(TEXT) as { uwsgi: Record<string, string> }).uwsgi.socket).toBe('127.0.0.1:3000');
    expect(splitIniLines(TEXT, 'f.ini').entries[0]?.value).toBe('127.0.0.1:3000 ; nginx');
  });

  it('keeps only the last of repeated keys, where uWSGI keeps every one, in order', () => {
    expect((ini.parse(TEXT) as { uwsgi: Record<string, string> }).uwsgi.env).toBe('B=2');
    expect(splitIniLines(TEXT, 'f.ini').entries.filter((e) => e.key === 'env').map((e) => [e.value, e.line])).toEqual([
      ['A=1', 3],
      ['B=2', 4],
    ]);
  });

  it('reads [a.b] as nesting and its encoder quotes values containing "="', () => {
    expect(ini.parse(TEXT)).toHaveProperty(['a', 'b', 'x'], '1');
    expect(ini.encode({ uwsgi: { env: 'A=1' } })).toContain('env="A=1"');
  });
});
