import { describe, expect, it } from 'vitest';
import { isEmptyPlan, planSync } from '../../src/emperor/sync-plan.js';

const desired = (files: Record<string, string>, held: string[] = [], keep: string[] = []) => ({
  files: new Map(Object.entries(files)),
  held: new Set(held),
  keep: (f: string) => keep.includes(f),
});

describe('planSync', () => {
  it('starts new files, reloads changed content, stops what is gone, leaves equal content alone', () => {
    const plan = planSync(desired({ '/v/new.ini': 'n', '/v/changed.ini': 'c2', '/v/same.ini': 's' }), new Map([
      ['/v/changed.ini', 'c1'],
      ['/v/same.ini', 's'],
      ['/v/gone.ini', 'g'],
    ]));
    expect(plan).toEqual({ start: ['/v/new.ini'], reload: ['/v/changed.ini'], stop: ['/v/gone.ini'] });
  });

  it('a rename is a start of the new name and a stop of the old one, in one plan', () => {
    expect(planSync(desired({ '/v/b.ini': 'x' }), new Map([['/v/a.ini', 'x']]))).toEqual({ start: ['/v/b.ini'], reload: [], stop: ['/v/a.ini'] });
  });

  it('force reloads every file, changed or not', () => {
    expect(planSync(desired({ '/v/a.ini': 'x' }), new Map([['/v/a.ini', 'x']]), true).reload).toEqual(['/v/a.ini']);
  });

  it('held paths are neither started, reloaded nor stopped; kept paths are not stopped', () => {
    const plan = planSync(desired({ '/v/writing.ini': 'half', '/v/edited.ini': 'new' }, ['/v/writing.ini', '/v/edited.ini', '/v/renaming.ini'], ['/v/unreadable.ini']), new Map([
      ['/v/edited.ini', 'old'],
      ['/v/renaming.ini', 'r'],
      ['/v/unreadable.ini', 'u'],
    ]));
    expect(isEmptyPlan(plan)).toBe(true);
  });
});
