import { describe, expect, it } from 'vitest';
import { isVassalName, sourceWarning, vassalSource } from '../../src/emperor/vassal-source.js';

describe('isVassalName', () => {
  it('takes x.ini; never editor companions, hidden files or other endings', () => {
    expect(isVassalName('app.ini', ['.ini'])).toBe(true);
    for (const name of ['.app.ini.swp', 'app.ini~', '4913', '.#app.ini', 'app.ini.bak', '.hidden.ini', '.ini', 'app.ini___jb_tmp___', '..data', 'app.conf']) {
      expect(isVassalName(name, ['.ini']), name).toBe(false);
    }
    expect(isVassalName('app.conf', ['.ini', '.conf'])).toBe(true);
  });
});

describe('vassalSource', () => {
  it('a directory matches its vassal names directly in it', () => {
    const s = vassalSource('/etc/vassals', ['.ini']);
    expect(s).toMatchObject({ base: '/etc/vassals', depth: 0 });
    expect(s.matches('/etc/vassals/a.ini')).toBe(true);
    expect(s.matches('/etc/vassals/sub/a.ini')).toBe(false);
    expect(s.matches('/etc/vassals/a.ini~')).toBe(false);
  });

  it('a glob matches by pattern and vassal name; its base is the part without wildcards', () => {
    const s = vassalSource('/etc/vassals/app-*.ini', ['.ini']);
    expect(s).toMatchObject({ base: '/etc/vassals', depth: 0 });
    expect(s.matches('/etc/vassals/app-x.ini')).toBe(true);
    expect(s.matches('/etc/vassals/other.ini')).toBe(false);
    expect(vassalSource('/etc/vassals/*', ['.ini']).matches('/etc/vassals/x.ini~')).toBe(false);
  });

  it('a glob with directory wildcards descends only into matching directories, as deep as the pattern', () => {
    const s = vassalSource('/srv/*/deploy/*.ini', ['.ini']);
    expect(s).toMatchObject({ base: '/srv', depth: 2 });
    expect(s.descendInto('shop', 1)).toBe(true);
    expect(s.descendInto('deploy', 2)).toBe(true);
    expect(s.descendInto('other', 2)).toBe(false);
    expect(s.descendInto('deeper', 3)).toBe(false);
    expect(s.matches('/srv/shop/deploy/shop.ini')).toBe(true);
    expect(s.matches('/srv/shop/other/shop.ini')).toBe(false);
    expect(vassalSource('/srv/**/*.ini', ['.ini']).depth).toBeUndefined();
  });

  it('warns about a glob whose ending can never be a vassal name', () => {
    expect(sourceWarning('/etc/vassals/*.conf', ['.ini'])).toContain('emperor-extension = .conf');
    expect(sourceWarning('/etc/vassals/*.conf', ['.conf'])).toBeUndefined();
    expect(sourceWarning('/etc/vassals/*.ini', ['.ini'])).toBeUndefined();
    expect(sourceWarning('/etc/vassals', ['.ini'])).toBeUndefined();
  });
});
