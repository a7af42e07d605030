import { describe, expect, it } from 'vitest';
import type { ConfigEntry } from '../../src/config/config-entry.js';
import { evaluateExpression } from '../../src/config/placeholder-math.js';
import { MAX_VALUE_LENGTH, References, type Expansion } from '../../src/config/references.js';
import { fakeHost } from '../support/config-host.js';

function entries(pairs: readonly [string, string][], stray: Record<number, string[]> = {}): ConfigEntry[] {
  return pairs.map(([key, value], i) => ({ key, value, file: '/srv/app.ini', line: i + 2, bare: false, baseDir: '/srv', stray: stray[i] ?? [] }));
}

function expandLast(pairs: readonly [string, string][], files: Record<string, string> = {}, env: Record<string, string> = {}): Expansion {
  const list = entries(pairs);
  return new References(list, fakeHost(files, { env })).expand(list[list.length - 1]!);
}

describe('$(ENV)', () => {
  it('expands variables, with :- (unset or empty) and - (unset) defaults', () => {
    const env = { HOME: '/home/x', EMPTY: '' };
    expect(expandLast([['chdir', '$(HOME)/app $(EMPTY:-e1) $(EMPTY-e2) $(UNSET:-u1) $(UNSET-u2)']], {}, env)).toEqual({ value: '/home/x/app e1  u1 u2', problems: [], external: false });
  });

  it('leaves an unset variable as written and says how to give a default', () => {
    expect(expandLast([['socket', ':$(PORT)']])).toEqual({
      value: ':$(PORT)',
      problems: ['environment variable PORT is not set (to give a default, write $(PORT:-value))'],
      // The environment is outside the file: the same text may work once the variable is set.
      external: true,
    });
  });
});

describe('@(file)', () => {
  it('reads a file relative to the base directory, dropping one trailing newline', () => {
    expect(expandLast([['listen', '@(somaxconn)']], { '/srv/somaxconn': '4096\n\n' })).toEqual({ value: '4096\n', problems: [], external: false });
    expect(expandLast([['x', '@(/etc/hostname)']], { '/etc/hostname': 'web1\r\n' }).value).toBe('web1');
  });

  it('refuses other sources and names an unreadable file', () => {
    expect(expandLast([['x', '@(exec://whoami) @(nope)']]).problems).toEqual([
      '@(exec://whoami) reads from exec://, which is not supported here; only @(path) of a file is',
      '@(nope): cannot read /srv/nope: no such file',
    ]);
  });

  it('counts a file that cannot be read as an external cause, a source that is never supported as the text\'s own', () => {
    expect(expandLast([['x', '@(nope)']]).external).toBe(true);
    expect(expandLast([['x', '@(exec://whoami)']]).external).toBe(false);
    // Through a placeholder too: the problem travels as text, its cause with it.
    expect(expandLast([['p', '@(nope)'], ['x', '%(p)']])).toMatchObject({ external: true, problems: ['@(nope): cannot read /srv/nope: no such file'] });
    expect(expandLast([['p', '$(UNSET)'], ['x', '%(p) %(p)']]).external).toBe(true);
  });
});

describe('%(name) placeholders', () => {
  it('resolve to the first value of any key or set-placeholder, fully expanded, even when defined later', () => {
    const pairs: [string, string][] = [
      ['base', '/srv/%(project)'],
      ['socket', '%(base)/a.sock'],
      ['socket', '%(socket)-copy'],
      ['set-placeholder', 'project = yabi'],
      ['project', 'ignored: set-placeholder came first'],
    ];
    const list = entries(pairs);
    const refs = new References(list, fakeHost());
    expect(list.map((e) => refs.expand(e).value)).toEqual(['/srv/yabi', '/srv/yabi/a.sock', '/srv/yabi/a.sock-copy', 'project = yabi', 'ignored: set-placeholder came first']);
    expect([...refs.referencedNames()].sort()).toEqual(['base', 'project', 'socket']);
  });

  it('expand $(ENV) and @(file) inside the placeholder\'s own value', () => {
    expect(expandLast([['home', '$(HOME)'], ['root', '@(r)'], ['chdir', '%(home)%(root)']], { '/srv/r': '/www\n' }, { HOME: '/h' }).value).toBe('/h/www');
  });

  it('leave an unknown name as written with the nearest name, and %(_) outside a block', () => {
    expect(expandLast([['project', 'x'], ['chdir', '/srv/%(projcet)/%(_)']])).toEqual({
      value: '/srv/%(projcet)/%(_)',
      problems: [
        'no option or placeholder named "projcet" for %(projcet); did you mean %(project)?',
        '%(_) has a value only inside a for or if-* block (the current item, or the value the if-* tested)',
      ],
      external: false,
    });
  });

  it('refuse a circle of placeholders', () => {
    expect(expandLast([['a', '%(b)'], ['b', '%(a)'], ['chdir', '%(a)']]).problems).toEqual(['placeholders refer to each other in a circle: a -> b -> a']);
  });

  it('report a stray % sequence in the value used or in a placeholder it uses', () => {
    const list = entries([['name', 'x%V'], ['command', 'run %(name) 100%']], { 0: ['%V'], 1: ['%'] });
    expect(new References(list, fakeHost()).expand(list[1]!).problems).toEqual([
      'a "%" at the end of the value is not a magic variable; write %% for a literal %',
      '%V is not a magic variable this reader knows (docs/options.md lists them); write %% for a literal % (in name, /srv/app.ini:2)',
    ]);
  });

  it('stop a value with thousands of references to a long placeholder before it is built', () => {
    const started = performance.now();
    const result = expandLast([['long', 'x'.repeat(60_000)], ['chdir', '%(long)'.repeat(100_000)]]);
    expect(result.problems).toEqual([`the value expands to more than ${MAX_VALUE_LENGTH} characters`]);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('stop a value that grows past the limit', () => {
    const pairs: [string, string][] = [['a0', 'x'.repeat(1000)]];
    for (let i = 1; i <= 8; i++) pairs.push([`a${i}`, `%(a${i - 1})%(a${i - 1})`]);
    pairs.push(['chdir', '%(a8)']);
    expect(expandLast(pairs).problems).toContain(`the value expands to more than ${MAX_VALUE_LENGTH} characters`);
  });
});

describe('placeholder math (uWSGI docs: "Placeholders math")', () => {
  const values: Record<string, string> = { foo: '17', bar: '30', two: '2', nine: '9', processes: '4' };
  const lookup = (name: string): string | undefined => values[name];

  it('is a left-to-right pipeline: %(foo + bar + 3 * 2) is 100', () => {
    expect(evaluateExpression('foo + bar + 3 * 2', lookup)).toEqual({ value: '100', missing: [] });
    expect(evaluateExpression('foo + bar + 3', lookup).value).toBe('50');
  });

  it('concatenates items without an operator, has ++ and --, and divides by zero to 0', () => {
    expect(evaluateExpression('two nine ++', lookup).value).toBe('30');
    expect(evaluateExpression('foo --', lookup).value).toBe('16');
    expect(evaluateExpression('foo / 0', lookup).value).toBe('0');
    expect(evaluateExpression('2 * 1024 * 1024 * 1024', lookup).value).toBe('2147483648');
    expect(evaluateExpression('processes - 10', lookup).value).toBe('-6');
  });

  it('reports names with no value', () => {
    expect(evaluateExpression('nope + 1', lookup)).toEqual({ value: '1', missing: ['nope'] });
    expect(expandLast([['cheaper', '%(2 * 1024)'], ['x', '%(cheaper + 1) %(nope * 2)']])).toEqual({
      value: '2049 0',
      problems: ['no option or placeholder named "nope" for %(nope * 2)'],
      external: false,
    });
  });
});
