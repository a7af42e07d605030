import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectConfigFile } from '../../src/config/config-file.js';
import type { ConfigHost } from '../../src/config/config-host.js';
import { parseVassalText } from '../../src/config/load-vassal.js';
import { renderConfig } from '../../src/config/show-config.js';
import { expandGlob as expandAnyGlob, matchSegment, MAX_GLOB_NAMES } from '../../src/config/glob-pattern.js';
import { reloadKind } from '../../src/vassal/reload-kind.js';
import { fakeHost } from '../support/config-host.js';
import { CORPUS_DIR, corpusFiles, corpusHost, SHARED_MISSING } from '../support/corpus.js';

const FILE = '/srv/vassals/app.ini';
const TEXT = [
  '[uwsgi]',
  'project = shop',
  'ini = common.ini',
  'command = node %(project).js --port $(PORT:-8000)',
  'for = 1 2',
  'socket = /run/%(project)-%(_).sock',
  'endfor',
  'if-env = HOME',
  'env = HOME_DIR=%(_)',
  'endif',
  'log-format = %(status) %%Y',
  'master',
  'chdir = %d',
].join('\n');

function host(): ConfigHost {
  return fakeHost({ [FILE]: TEXT, '/srv/vassals/common.ini': '[uwsgi]\nprocesses = %k\nvacuum\n' }, { env: { HOME: '/home/x' } });
}

describe('supervisor --show-config', () => {
  it('prints the options as read, expanded, in order, noting where included lines came from', () => {
    const inspected = inspectConfigFile(FILE, host());
    expect(renderConfig(inspected.entries, inspected.references, 'title', inspected.tested)).toBe(
      [
        '; title',
        '; includes, logic blocks, magic variables and references are expanded; % is written %%',
        '[uwsgi]',
        `; from ${FILE}`,
        'set-placeholder = project=shop',
        '; from /srv/vassals/common.ini',
        'processes = 4',
        'vacuum',
        `; from ${FILE}`,
        'command = node shop.js --port 8000',
        'socket = /run/shop-1.sock',
        'socket = /run/shop-2.sock',
        'env = HOME_DIR=/home/x',
        'log-format = %%(status) %%Y',
        'master',
        'chdir = /srv/vassals/',
        '',
      ].join('\n'),
    );
  });

  it('reads back to the same options and findings', () => {
    const h = host();
    const inspected = inspectConfigFile(FILE, h);
    const shown = renderConfig(inspected.entries, inspected.references, 'round trip', inspected.tested);
    const first = parseVassalText(TEXT, FILE, { host: h });
    const again = parseVassalText(shown, FILE, { host: h });
    expect(first.ok && again.ok).toBe(true);
    if (!first.ok || !again.ok) return;
    // The same config, as the vassal sees it: nothing to reload.
    expect(reloadKind(first.config, again.config, false)).toBe('none');
    expect(again.config.sockets).toEqual(first.config.sockets);
    expect(again.diagnostics.map((d) => [d.severity, d.key])).toEqual(first.diagnostics.map((d) => [d.severity, d.key]));
  });
});

describe('for-glob patterns', () => {
  const h = fakeHost({ '/etc/app/a.conf': '', '/etc/app/b.conf': '', '/etc/app/.hidden.conf': '', '/etc/app/sub/c.conf': '', '/etc/app/x[1].txt': '' });

  const expandGlob = (pattern: string, baseDir: string, on: ConfigHost): string[] => {
    const result = expandAnyGlob(pattern, baseDir, on);
    if (!result.ok) throw new Error(result.message);
    return result.matches;
  };

  it('match like glob(3): sorted, no leading dot, directories marked with /, the pattern itself when nothing matches', () => {
    expect(expandGlob('/etc/app/*.conf', '/', h)).toEqual(['/etc/app/a.conf', '/etc/app/b.conf']);
    expect(expandGlob('app/*', '/etc', h)).toEqual(['/etc/app/a.conf', '/etc/app/b.conf', '/etc/app/sub/', '/etc/app/x[1].txt']);
    expect(expandGlob('/etc/*/sub/?.conf', '/', h)).toEqual(['/etc/app/sub/c.conf']);
    expect(expandGlob('/etc/app/[ab].conf', '/', h)).toEqual(['/etc/app/a.conf', '/etc/app/b.conf']);
    expect(expandGlob('/etc/app/[!a].conf', '/', h)).toEqual(['/etc/app/b.conf']);
    expect(expandGlob('/etc/app/.*.conf', '/', h)).toEqual(['/etc/app/.hidden.conf']);
    expect(expandGlob('/nowhere/*.conf', '/', h)).toEqual(['/nowhere/*.conf']);
    expect(expandGlob('/etc/app/[z-a]*', '/', h)).toEqual(['/etc/app/[z-a]*']);
    expect(expandGlob('/etc/app/x[[]1].txt', '/', h)).toEqual(['/etc/app/x[1].txt']);
  });

  /** A tree of `fanout` directories of `fanout` files each under /d, listed lazily; counts the names handed out. */
  function wideTree(fanout: number): ConfigHost & { listed: () => number } {
    let listed = 0;
    const names = Array.from({ length: fanout }, (_, i) => `n${i}`);
    return {
      ...fakeHost(),
      listed: () => listed,
      listDir(dir, limit = Infinity) {
        const depth = dir.split('/').filter(Boolean).length;
        if (dir !== '/' && !dir.startsWith('/d') || depth > 2) return undefined;
        const out = dir === '/' ? ['d'] : names.slice(0, limit + 1);
        listed += out.length;
        return out;
      },
      pathKind: (p) => (p.split('/').filter(Boolean).length <= 2 ? 'dir' : 'file'),
    };
  }

  it('stop at the item cap, and past MAX_GLOB_NAMES directory entries, without listing the rest', () => {
    const flat = wideTree(20_000);
    expect(expandAnyGlob('/d/n1/*', '/', flat, 10_000)).toEqual({ ok: false, message: 'more than 10000 paths match; at most 10000 are allowed' });
    // Listing stops at the cap: the 20000 names are never all looked at, let alone matched and sorted.
    expect(flat.listed()).toBeLessThanOrEqual(MAX_GLOB_NAMES + 2);
    const nested = wideTree(1_000);
    const started = performance.now();
    const result = expandAnyGlob('/d/*/none*', '/', nested, 10_000);
    expect(result).toMatchObject({ ok: false, message: expect.stringContaining(`more than ${MAX_GLOB_NAMES} directory entries to look at`) });
    expect(nested.listed()).toBeLessThanOrEqual(MAX_GLOB_NAMES + 2);
    expect(performance.now() - started).toBeLessThan(5_000);
    // Under the caps, the same tree globs as before.
    expect(expandAnyGlob('/d/n1/n1*', '/', nested, 10_000)).toMatchObject({ ok: true, matches: expect.arrayContaining(['/d/n1/n1', '/d/n1/n199']) });
  });

  it('match in time bounded by the lengths, even for patterns a backtracking RegExp would choke on', () => {
    const started = performance.now();
    expect(matchSegment('*a*a*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(250))).toBe(false);
    expect(matchSegment('a*b?c[x-z]', 'a__b_cy')).toBe(true);
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe.skipIf(Boolean(SHARED_MISSING))(`--show-config on the corpus${SHARED_MISSING ?? ''}`, () => {
  it('is a fixed point: what it prints, read again, prints the same options', () => {
    const real = corpusHost();
    const optionLines = (text: string): string[] => text.split('\n').filter((l) => !l.startsWith(';'));
    for (const name of corpusFiles()) {
      const file = path.join(CORPUS_DIR, name);
      const first = inspectConfigFile(file, real);
      const shown = renderConfig(first.entries, first.references, 'first', first.tested);
      // The printed file stands in for the original, in the same directory, so relative paths mean the same.
      const overlay: ConfigHost = { ...real, readText: (p) => (p === file ? { ok: true, text: shown } : real.readText(p)) };
      const second = inspectConfigFile(file, overlay);
      expect(optionLines(renderConfig(second.entries, second.references, 'second', second.tested)), name).toEqual(optionLines(shown));
    }
  });
});
