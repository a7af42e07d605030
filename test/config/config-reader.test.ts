import { describe, expect, it } from 'vitest';
import { readCommandLine, readVassalText, MAX_ENTRIES, MAX_TEXT_READ, type ConfigRead, type TemplateRef } from '../../src/config/config-reader.js';
import { formatDiagnostic, MAX_DIAGNOSTICS } from '../../src/config/diagnostic.js';
import { MAX_EXPANDED_LINE } from '../../src/config/magic-vars.js';
import type { IniEntry } from '../../src/config/ini-lines.js';
import { fakeHost } from '../support/config-host.js';

const FILE = '/srv/vassals/app.ini';

function read(
  lines: readonly string[],
  files: Record<string, string> = {},
  options: { env?: Record<string, string>; dirs?: string[]; include?: TemplateRef[]; set?: IniEntry[] } = {},
): ConfigRead {
  const host = fakeHost(files, options);
  return readVassalText(lines.join('\n'), FILE, host, { include: options.include, set: options.set });
}

/** `key=value` of every entry, in order. */
const kv = (r: ConfigRead): string[] => r.entries.map((e) => `${e.key}=${e.value}`);
/** Where every entry came from. */
const at = (r: ConfigRead): string[] => r.entries.map((e) => `${e.key}@${e.file}:${e.line}`);
const diags = (r: ConfigRead): string[] => r.diagnostics.map(formatDiagnostic);

describe('lines and sections', () => {
  it('has whole-line comments only: ; or # first, after any indentation; elsewhere they are part of the value', () => {
    const r = read(['[uwsgi]', '; comment', '  # indented comment', 'socket = :3031 ; nginx', 'env = A=1 # not a comment', 'log-format = a;b#c']);
    expect(kv(r)).toEqual(['socket=:3031 ; nginx', 'env=A=1 # not a comment', 'log-format=a;b#c']);
    expect(diags(r)).toEqual([]);
  });

  it('splits at the first =, trims key and value, and reads a key without = as a bare flag', () => {
    const r = read(['[uwsgi]', '  env  =  A=B=C  ', 'master', 'show-config =', 'x==y', '\tchdir\t=\t/srv\t']);
    expect(r.entries.map((e) => [e.key, e.value, e.bare])).toEqual([
      ['env', 'A=B=C', false],
      ['master', '', true],
      ['show-config', '', false],
      ['x', '=y', false],
      ['chdir', '/srv', false],
    ]);
  });

  it('reads every [uwsgi] and [supervisor] block in order and ignores other sections', () => {
    const r = read(['top = ignored', '[uwsgi]', 'a = 1', '[app:main]', 'use = egg:x', '  [supervisor]', 'b = 2', '[uwsgi]', 'c = 3']);
    expect(kv(r)).toEqual(['a=1', 'b=2', 'c=3']);
    expect(at(r)).toEqual([`a@${FILE}:3`, `b@${FILE}:7`, `c@${FILE}:9`]);
  });

  it('tolerates CRLF, a missing final newline and a UTF-8 BOM', () => {
    expect(kv(read(['\uFEFF[uwsgi]\r', 'a = 1\r', 'b = 2']))).toEqual(['a=1', 'b=2']);
  });

  it('names the sections a file has when it lacks [uwsgi]', () => {
    const r = read(['[app]', 'x = 1', '[zerg]']);
    expect(r.sectionFound).toBe(false);
    expect(diags(r)).toEqual([`${FILE}: error: no [uwsgi] or [supervisor] section; it has [app], [zerg]`]);
    expect(diags(read(['x = 1']))).toEqual([`${FILE}: error: no [uwsgi] or [supervisor] section; it has no sections`]);
  });

  it('reports an empty key, an unterminated header and merge-conflict markers with their lines', () => {
    const r = read(['[uwsgi]', '= value', '[uwsgi', '[uwsgi]', '<<<<<<< HEAD', 'a = 1', '=======', 'a = 2', '>>>>>>> branch']);
    expect(diags(r)).toEqual([
      `${FILE}:2: error: line has a value but no option name: "= value"`,
      `${FILE}:3: error: section header "[uwsgi" has no closing "]"`,
      `${FILE}:5: error: git merge-conflict marker "<<<<<<<": resolve the conflict before using this file`,
      `${FILE}:7: error: git merge-conflict marker "=======": resolve the conflict before using this file`,
      `${FILE}:9: error: git merge-conflict marker ">>>>>>>": resolve the conflict before using this file`,
    ]);
  });

  it('expands magic variables in keys and values when the file is read, and records stray % sequences', () => {
    const r = read(['[uwsgi]', 'socket = %d%n.sock', '%n_dir = %c', 'log-date = %%Y %V']);
    expect(kv(r)).toEqual(['socket=/srv/vassals/app.sock', 'app_dir=vassals', 'log-date=%Y %V']);
    expect(r.entries[2]?.stray).toEqual(['%V']);
  });
});

describe('includes', () => {
  const other = '/srv/vassals/common.ini';

  it('splices ini = FILE in at its place, each line keeping its own file:line', () => {
    const r = read(['[uwsgi]', 'a = 1', 'ini = common.ini', 'c = 3'], { [other]: '[uwsgi]\nb = 2\n' });
    expect(at(r)).toEqual([`a@${FILE}:2`, `b@${other}:2`, `c@${FILE}:4`]);
  });

  it('reads FILE:section, and :section of the current file (also via include =)', () => {
    const lines = ['[uwsgi]', 'ini = common.ini:extra', 'include = :local', '[local]', 'l = 1'];
    const r = read(lines, { [other]: '[uwsgi]\nno = 1\n[extra]\ne = 1\n', [FILE]: lines.join('\n') });
    expect(kv(r)).toEqual(['e=1', 'l=1']);
  });

  it('resolves a relative include against the vassal file\'s directory, and an included file\'s %d is its own', () => {
    const r = read(['[uwsgi]', 'ini = ../lib/base.ini'], { '/srv/lib/base.ini': '[uwsgi]\nhere = %d\ntop = %D\nbase = %v\n' });
    expect(kv(r)).toEqual(['here=/srv/lib/', 'top=/srv/vassals/', 'base=/srv/vassals']);
  });

  it('reports a missing file and a missing section at the including line', () => {
    const r = read(['[uwsgi]', 'ini = nope.ini', 'ini = common.ini:legion', 'ini ='], { [other]: '[uwsgi]\n' });
    expect(diags(r)).toEqual([
      `${FILE}:2: error: cannot read ini = nope.ini (/srv/vassals/nope.ini): no such file`,
      `${FILE}:3: error: common.ini has no [legion] section; it has [uwsgi]`,
      `${FILE}:4: error: ini needs a file name: ini = other.ini or ini = other.ini:section`,
    ]);
  });

  it('refuses an include cycle, naming the chain, and keeps what was read', () => {
    const r = read(['[uwsgi]', 'ini = a.ini', 'z = 1'], {
      '/srv/vassals/a.ini': '[uwsgi]\nini = b.ini\na = 1\n',
      '/srv/vassals/b.ini': '[uwsgi]\nb = 1\nini = a.ini\n',
    });
    expect(diags(r)).toEqual(['/srv/vassals/b.ini:3: error: include cycle: a.ini -> b.ini -> a.ini; ini = a.ini is not read again']);
    expect(kv(r)).toEqual(['b=1', 'a=1', 'z=1']);
    expect(diags(read(['[uwsgi]', 'ini = app.ini'], { [FILE]: '' }))).toEqual([`${FILE}:2: error: include cycle: app.ini -> app.ini; ini = app.ini is not read again`]);
  });

  it('stops a chain of includes deeper than 32 files, the vassal file counted', () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 40; i++) files[`/srv/vassals/f${i}.ini`] = `[uwsgi]\nini = f${i + 1}.ini\n`;
    expect(diags(read(['[uwsgi]', 'ini = f0.ini'], files))).toEqual(['/srv/vassals/f30.ini:2: error: includes nest deeper than 32 files; ini = f31.ini is not read']);
  });

  it('expands only magic variables in an include\'s file name, since it is read when its line is', () => {
    expect(diags(read(['[uwsgi]', 'ini = $(HOME)/x.ini']))).toEqual([
      `${FILE}:2: error: ini = $(HOME)/x.ini: an include is read when its line is read, so only magic variables (%d, %n, ...) are expanded in its file name, not $(...), @(...) or %(...)`,
    ]);
  });

  it('prepends vassals-include templates (whose %N is the vassal) and appends vassal-set options', () => {
    const template = '/etc/supervisor/defaults.ini';
    const r = read(['[uwsgi]', 'own = 1'], { [template]: '[uwsgi]\nsocket = /run/%N.sock\nmine = %n\n' }, {
      include: [{ path: template, source: { file: '/etc/emperor.ini', line: 3 } }],
      set: [{ key: 'processes', value: '2', file: '/etc/emperor.ini', line: 4, bare: false }],
    });
    expect(kv(r)).toEqual(['socket=/run/app.sock', 'mine=defaults', 'own=1', 'processes=2']);
    expect(at(r)).toEqual([`socket@${template}:2`, `mine@${template}:3`, `own@${FILE}:2`, 'processes@/etc/emperor.ini:4']);
  });

  it('reports an unreadable template at the emperor line that named it', () => {
    const r = read(['[uwsgi]'], {}, { include: [{ path: '/etc/missing.ini', source: { file: '/etc/emperor.ini', line: 3 } }] });
    expect(diags(r)).toEqual(['/etc/emperor.ini:3: error: cannot read vassals-include /etc/missing.ini: no such file']);
  });

  it('reads --ini FILE from the command line with the file\'s directory as its base, flags with the cwd', () => {
    const host = fakeHost({ '/srv/app/app.ini': '[uwsgi]\nsocket = app.sock\nname = %n\n' });
    const entry = (key: string, value: string): IniEntry => ({ key, value, file: 'command line', line: 0, bare: false });
    const r = readCommandLine([entry('processes', '2'), entry('ini', '/srv/app/app.ini'), entry('chdir', 'x')], host);
    expect(r.entries.map((e) => `${e.key}=${e.value} in ${e.baseDir}`)).toEqual([
      'processes=2 in /home/deploy',
      'socket=app.sock in /srv/app',
      'name=app in /srv/app',
      'chdir=x in /home/deploy',
    ]);
  });
});

describe('logic blocks', () => {
  it('for repeats each line per space-separated item, with %(_) the item (uWSGI ConfigLogic example)', () => {
    const r = read(['[uwsgi]', 'for = a b  c', 'socket = /var/run/%(_).socket', 'http-socket = /var/run/%(_)-http.socket', 'endfor =', 'after = 1']);
    expect(kv(r)).toEqual([
      'socket=/var/run/a.socket',
      'socket=/var/run/b.socket',
      'socket=/var/run/c.socket',
      'http-socket=/var/run/a-http.socket',
      'http-socket=/var/run/b-http.socket',
      'http-socket=/var/run/c-http.socket',
      'after=1',
    ]);
    expect(at(r)[0]).toBe(`socket@${FILE}:3`);
  });

  it('for-readline repeats per non-blank line of a file, for-times counts from 1, for-glob expands a glob', () => {
    const files = { '/srv/vassals/nodes': 'n1\r\n\n  \nn2\n', '/srv/conf.d/b.conf': '', '/srv/conf.d/a.conf': '', '/srv/conf.d/.hidden.conf': '' };
    const r = read(
      ['[uwsgi]', 'for-readline = nodes', 'node = %(_)', 'end-for =', 'for-times = 3', 'n = %(_)', 'endfor', 'for-glob = ../conf.d/*.conf', 'conf = %(_)', 'endfor', 'for-glob = /none/*.x', 'g = %(_)', 'endfor'],
      files,
    );
    expect(kv(r)).toEqual(['node=n1', 'node=n2', 'n=1', 'n=2', 'n=3', 'conf=/srv/conf.d/a.conf', 'conf=/srv/conf.d/b.conf', 'g=/none/*.x']);
  });

  it('refuses a for-times that is not a small whole number, and an unreadable for-readline, skipping the block', () => {
    const r = read(['[uwsgi]', 'for-times = 1e9', 'x = %(_)', 'endfor', 'for-readline = /nope', 'y = %(_)', 'endfor', 'z = 1']);
    expect(diags(r)).toEqual([
      `${FILE}:2: error: for-times = 1e9: for-times expects a whole number from 0 to 10000, got "1e9"; the block is skipped`,
      `${FILE}:5: error: for-readline = /nope: cannot read /nope: no such file; the block is skipped`,
    ]);
    expect(kv(r)).toEqual(['z=1']);
  });

  it('if-env / if-not-env test a variable (or NAME=value), %(_) is its value, else takes the other branch', () => {
    const env = { PORT: '8000', MODE: 'prod' };
    const r = read(
      ['[uwsgi]', 'if-env = PORT', 'socket = :%(_)', 'else =', 'socket = :80', 'endif =', 'if-env = MODE=dev', 'dev = 1', 'else', 'dev = 0', 'end-if', 'if-not-env = MISSING', 'm = unset', 'end =', 'ifenv = MODE', 'mode = %(_)', 'endif'],
      {},
      { env },
    );
    expect(kv(r)).toEqual(['socket=:8000', 'dev=0', 'm=unset', 'mode=prod']);
  });

  it('if-exists, if-file, if-dir and their negations test paths relative to the vassal directory', () => {
    const r = read(
      ['[uwsgi]', 'if-exists = static', 'e = %(_)', 'endif', 'if-file = static', 'f = 1', 'endif', 'if-dir = static', 'd = 1', 'endif', 'if-not-exists = nope', 'ne = %(_)', 'endif', 'if-not-file = static', 'nf = 1', 'endif', 'ifdir = /srv', 'd2 = 1', 'endif'],
      {},
      { dirs: ['/srv/vassals/static'] },
    );
    expect(kv(r)).toEqual(['e=static', 'd=1', 'ne=nope', 'nf=1', 'd2=1']);
  });

  it('if-opt / if-not-opt test options and placeholders given so far (also from includes)', () => {
    const r = read(
      ['[uwsgi]', 'ini = base.ini', 'if-opt = nat_ip', 'router = %(_):999', 'endif', 'if-not-opt = nat_ip', 'router = public', 'endif', 'if-opt = mode=prod', 'p = 1', 'endif', 'if-not-opt = later', 'l = %(_)', 'endif', 'later = 1'],
      { '/srv/vassals/base.ini': '[uwsgi]\nnat_ip = 10.0.0.1\nset-placeholder = mode=prod\n' },
    );
    expect(kv(r)).toEqual(['nat_ip=10.0.0.1', 'set-placeholder=mode=prod', 'router=10.0.0.1:999', 'p=1', 'l=%(_)', 'later=1']);
    expect([...r.tested].sort()).toEqual(['later', 'mode', 'nat_ip']);
  });

  it('if-hostname compares with the host name; else adds lines as written (uWSGI tests/else_test.ini)', () => {
    const r = read(['[uwsgi]', 'if-hostname = foobar', 'print = ok1', 'else =', 'print = no1 %(_)', 'else_executed = 1', 'endif =', 'if-not-opt = else_executed', 'exit = 17', 'end ='], {});
    expect(kv(r)).toEqual(['print=no1 %(_)', 'else_executed=1']);
  });

  it('refuses if-hostname-match, whose regular expression could run for ever on a host name', () => {
    expect(diags(read(['[uwsgi]', 'if-hostname-match = ^(a+)+$', 'x = 1', 'endif']))).toEqual([
      `${FILE}:2: error: if-hostname-match = ^(a+)+$: if-hostname-match is not supported; use if-hostname with the exact name; the block is skipped`,
    ]);
  });

  it('refuses nested blocks as uWSGI does, naming the outer block', () => {
    const r = read(['[uwsgi]', 'for = a b', 'if-env = X', 'x = 1', 'endif', 'y = 1']);
    expect(diags(r)).toEqual([
      `${FILE}:3: error: if-env inside the for block opened at line 2: logic blocks cannot be nested (uWSGI exits with "recursive logic in options is not supported")`,
      `${FILE}:5: warning: endif closes the for block opened at line 2; write endfor`,
    ]);
  });

  it('refuses a block that is never closed, and else outside an if-* block; warns about stray or mismatched closers', () => {
    expect(diags(read(['[uwsgi]', 'if-env = X', 'x = 1']))).toEqual([`${FILE}:2: error: the if-env block opened here is never closed: end it with endif`]);
    expect(diags(read(['[uwsgi]', 'else =', 'for = a', 'else', 'endfor', 'if-env = X', 'else', 'else', 'endif']))).toEqual([
      `${FILE}:2: error: else without an if-* block`,
      `${FILE}:4: error: else without an if-* block (the open block is for, line 3)`,
      `${FILE}:8: error: a second else in the if-env block opened at line 6`,
    ]);
    expect(diags(read(['[uwsgi]', 'endif =', 'for = a', 'x = %(_)', 'endif']))).toEqual([
      `${FILE}:2: warning: endif without an open for or if-* block; ignored`,
      `${FILE}:5: warning: endif closes the for block opened at line 3; write endfor`,
    ]);
  });

  it('includes a file per item from inside a block, and refuses a block opened by the included file there', () => {
    const r = read(['[uwsgi]', 'for = a b', 'ini = %(_).ini', 'endfor'], { '/srv/vassals/a.ini': '[uwsgi]\nfrom = a\n', '/srv/vassals/b.ini': '[uwsgi]\nif-env = X\nfrom = b\nendif\n' });
    expect(kv(r)).toEqual(['from=a', 'from=b']);
    expect(diags(r)).toEqual([
      '/srv/vassals/b.ini:2: error: if-env inside a block in the file that includes this one: logic blocks cannot be nested (uWSGI exits with "recursive logic in options is not supported")',
      '/srv/vassals/b.ini:4: warning: endif without an open for or if-* block; ignored',
    ]);
  });

  it('stops at a limit when loops and includes would make too many options', () => {
    const r = read(['[uwsgi]', 'for-times = 10000', 'ini = big.ini', 'endfor'], { '/srv/vassals/big.ini': '[uwsgi]\na = 1\nb = 2\nc = 3\nd = 4\ne = 5\nf = 6\n' });
    expect(r.entries).toHaveLength(MAX_ENTRIES);
    // 8333 rounds of 6 options, then a and b of the 8334th: c (line 4) is the first one over.
    expect(diags(r)).toEqual([`/srv/vassals/big.ini:4: error: the configuration expands to more than ${MAX_ENTRIES} options; the rest is not read`]);
  });
});

describe('limits against runaway files', () => {
  it('stops reading when a loop includes big files again and again', () => {
    const big = `[uwsgi]\n${'; filler line of a large comment block\n'.repeat(30_000)}x = 1\n`;
    const host = fakeHost({ '/srv/vassals/big.ini': big });
    const started = performance.now();
    const r = readVassalText(['[uwsgi]', 'for-times = 10000', 'ini = big.ini', 'endfor'].join('\n'), FILE, host);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(host.reads.length).toBeLessThan(30);
    expect(diags(r)).toEqual([`${FILE}:3: error: the configuration and its includes are more than ${MAX_TEXT_READ} bytes; the rest is not read`]);
  });

  it('stops expanding a line of magic variables that would grow past a megabyte', () => {
    const r = read(['[uwsgi]', `x = ${'%p'.repeat(200_000)}`]);
    expect(diags(r)).toEqual([`${FILE}:2: error: the line is longer than ${MAX_EXPANDED_LINE} characters once its magic variables are expanded; the rest is kept as written`]);
    expect(r.entries[0]!.value.length).toBeLessThan(MAX_EXPANDED_LINE + 500_000);
  });

  it('reports at most a thousand findings for one file', () => {
    const r = read(['[uwsgi]', ...Array.from({ length: 3000 }, () => '= no key')]);
    expect(r.diagnostics).toHaveLength(MAX_DIAGNOSTICS + 1);
    expect(diags(r).at(-1)).toBe(`${FILE}: error: more than ${MAX_DIAGNOSTICS} findings; the rest are not reported`);
  });
});

describe('errors whose cause is outside the text', () => {
  /** [message, external] of every error. */
  const causes = (r: ConfigRead): [string, boolean][] => r.diagnostics.filter((d) => d.severity === 'error').map((d) => [formatDiagnostic(d), d.external === true]);

  it('are marked external: a missing include, template or for-readline file (the same text may work later)', () => {
    const template: TemplateRef = { path: '/etc/defaults.ini', source: { file: '/etc/emperor.ini', line: 4 } };
    const r = read(['[uwsgi]', 'ini = base.ini', 'for-readline = hosts.txt', 'env = %(_)', 'endfor'], {}, { include: [template] });
    expect(causes(r)).toEqual([
      ['/etc/emperor.ini:4: error: cannot read vassals-include /etc/defaults.ini: no such file', true],
      [`${FILE}:2: error: cannot read ini = base.ini (/srv/vassals/base.ini): no such file`, true],
      [`${FILE}:3: error: for-readline = hosts.txt: cannot read /srv/vassals/hosts.txt: no such file; the block is skipped`, true],
    ]);
  });

  it('are not marked when the text itself is wrong: a cycle, a bad loop, an unclosed block', () => {
    const r = read(['[uwsgi]', 'ini = app.ini', 'for-times = lots', 'endfor', 'if-env = X'], { [FILE]: '[uwsgi]\n' });
    expect(causes(r).map(([, external]) => external)).toEqual([false, false, false]);
  });
});

describe("the emperor's uid/gid: the default account of vassal files", () => {
  const account: IniEntry[] = [
    { key: 'uid', value: 'www-data', file: '/etc/emperor.ini', line: 3, bare: false },
    { key: 'gid', value: 'www-data', file: '/etc/emperor.ini', line: 4, bare: false },
  ];
  const readWith = (lines: readonly string[]): string[] => kv(readVassalText(lines.join('\n'), FILE, fakeHost({}), { account }));

  it('a file that names no account gets both, before its own lines', () => {
    expect(readWith(['[uwsgi]', 'command = app'])).toEqual(['uid=www-data', 'gid=www-data', 'command=app']);
  });

  it('a file that names a uid has an account of its own: neither default applies (its user\'s group, not www-data)', () => {
    expect(readWith(['[uwsgi]', 'uid = alice'])).toEqual(['uid=alice']);
    expect(readWith(['[uwsgi]', 'gid = staff', 'uid = alice'])).toEqual(['gid=staff', 'uid=alice']);
  });

  it('a file that names only a gid keeps the default uid: it did not ask to run as root', () => {
    expect(readWith(['[uwsgi]', 'gid = staff'])).toEqual(['uid=www-data', 'gid=staff']);
  });
});
