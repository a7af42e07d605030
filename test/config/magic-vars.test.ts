import { describe, expect, it } from 'vitest';
import { expandMagic, magicTable, strayProblem } from '../../src/config/magic-vars.js';
import { FACTS } from '../support/config-host.js';

const vassal = { named: 'vassals/app.prod.ini', absolute: '/srv/vassals/app.prod.ini', section: 'uwsgi' };
const template = { named: '/etc/supervisor/defaults.ini', absolute: '/etc/supervisor/defaults.ini', section: 'uwsgi' };

describe('magic variables', () => {
  const own = magicTable(vassal, vassal, '/srv/vassals', FACTS);

  it('expand every documented variable of the file being read', () => {
    const text = '%p|%s|%d|%e|%n|%c|%o|%x|%v|%h|%k|%u|%U|%g|%G|%t|%T|%0|%1|%%';
    expect(expandMagic(text, own)).toEqual({
      text: '/srv/vassals/app.prod.ini|app.prod.ini|/srv/vassals/|ini|app.prod|vassals|vassals/app.prod.ini|vassals/app.prod.ini:uwsgi|/srv/vassals|web1|4|1000|deploy|1001|www|1700000000|1700000000123456|srv|vassals|%',
      stray: [],
    });
  });

  it('keep %d\'s trailing slash, so uWSGI files that write %dvassals or %d../x still work', () => {
    expect(expandMagic('%dvassals and %d../x', own).text).toBe('/srv/vassals/vassals and /srv/vassals/../x');
  });

  it('give the upper-case forms to the top-level file, for templates read on its behalf', () => {
    const inTemplate = magicTable(template, vassal, '/srv/vassals', FACTS);
    expect(expandMagic('%d %n | %D %N %P %S %E %C %O %X', inTemplate).text).toBe(
      '/etc/supervisor/ defaults | /srv/vassals/ app.prod /srv/vassals/app.prod.ini app.prod.ini ini vassals vassals/app.prod.ini vassals/app.prod.ini:uwsgi',
    );
  });

  it('leave %( for placeholders, and %% makes a literal % that is not expanded again', () => {
    expect(expandMagic('%(name) %%d %%(x)', own)).toEqual({ text: '%(name) %d %(x)', stray: [] });
  });

  it('keep unknown sequences verbatim and report them (uWSGI would silently drop them)', () => {
    expect(expandMagic('v%V %j 100%', own)).toEqual({ text: 'v%V %j 100%', stray: ['%V', '%j', '%'] });
    expect(strayProblem('%V')).toBe('%V is not a magic variable this reader knows (docs/options.md lists them); write %% for a literal %');
    expect(strayProblem('%')).toBe('a "%" at the end of the value is not a magic variable; write %% for a literal %');
  });

  it('name the directory components %0..%9 from the root, and a file without extension has an empty %e', () => {
    const deep = { named: '/a/b/c/d/e/f/g/h/i/j/k/l/noext', absolute: '/a/b/c/d/e/f/g/h/i/j/k/l/noext', section: 'uwsgi' };
    const table = magicTable(deep, deep, '/', FACTS);
    expect(expandMagic('%0%9 [%e] %n', table).text).toBe('aj [] noext');
  });
});
