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

  it('removes quotes that uWSGI keeps, which changes how command is split into words', () => {
    const text = '[uwsgi]\ncommand = "my app" --flag\ncommand2 = "node app.js"\n';
    expect((ini.parse(text) as { uwsgi: Record<string, string> }).uwsgi.command2).toBe('node app.js');
    expect(splitIniLines(text, 'f.ini').entries.map((e) => e.value)).toEqual(['"my app" --flag', '"node app.js"']);
  });

  it('merges repeated [uwsgi] blocks into one object, so the order of options across blocks is lost', () => {
    const text = '[uwsgi]\na = 1\n[uwsgi]\nb = 2\na = 3\n';
    expect(Object.entries((ini.parse(text) as { uwsgi: Record<string, string> }).uwsgi)).toEqual([['a', '3'], ['b', '2']]);
    expect(splitIniLines(text, 'f.ini').entries.map((e) => `${e.key}=${e.value}@${e.line}`)).toEqual(['a=1@2', 'b=2@4', 'a=3@5']);
  });

  it('reads [a.b] as nesting and its encoder quotes values containing "="', () => {
    expect(ini.parse(TEXT)).toHaveProperty(['a', 'b', 'x'], '1');
    expect(ini.encode({ uwsgi: { env: 'A=1' } })).toContain('env="A=1"');
  });
});
