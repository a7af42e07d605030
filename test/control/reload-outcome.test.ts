import { describe, expect, it } from 'vitest';
import { reloadResults } from '../../src/control/reload-outcome.js';
import { emperor, file, slot, T0, vassal } from './facts.js';

const asked = T0 + 10_000;

describe('reloadResults', () => {
  it('done: a new generation was started after the request and is all ready', () => {
    const v = vassal('a.ini', { generation: 2, lastReload: { generation: 2, result: 'done', startedAt: asked + 5, endedAt: asked + 900 } });
    expect(reloadResults(emperor([file(v)]), asked, { wait: true })).toEqual([{ vassal: 'a.ini', file: '/etc/vassals/a.ini', result: 'done', generation: 2 }]);
  });

  it('failed: a successor failed, a config error, no start, a crash loop, or no new generation', () => {
    const failedRoll = vassal('a.ini', { generation: 2, rollBlocked: true, lastReload: { generation: 2, result: 'failed', startedAt: asked + 5, error: 'worker 1 exit code 3' } });
    const badConfig = file(vassal('b.ini'), { configError: { at: asked + 1, errors: [{ file: '/etc/vassals/b.ini', line: 2, message: 'bad value' }] } });
    const cannotStart = file(undefined, { startError: { at: asked, message: 'address in use', failures: 1, retryAt: asked + 1000 } }, 'c.ini');
    const looping = vassal('d.ini', { generation: 2, rolling: true, slots: [slot(1), slot(2, { retryAt: asked + 4000 })], lastReload: { generation: 2, result: 'rolling', startedAt: asked + 3 } });
    const old = vassal('e.ini', { generation: 2, lastReload: { generation: 2, result: 'done', startedAt: asked - 5000 } });
    const results = reloadResults(emperor([file(failedRoll), badConfig, cannotStart, file(looping), file(old)]), asked, { wait: true });
    expect(results.map((r) => [r.vassal, r.result, r.error])).toEqual([
      ['a.ini', 'failed', 'worker 1 exit code 3'],
      ['b.ini', 'failed', 'config error: /etc/vassals/b.ini:2: bad value; the running version keeps serving'],
      ['c.ini', 'failed', 'cannot start: address in use'],
      ['d.ini', 'failed', 'generation 2 is not all ready: worker 2 keeps failing (crash-loop backoff)'],
      ['e.ini', 'failed', 'no new generation was started'],
    ]);
  });

  it('a roll still going counts as done without wait; a vassal started since is started; only the files asked for', () => {
    const rolling = vassal('a.ini', { generation: 2, rolling: true, lastReload: { generation: 2, result: 'rolling', startedAt: asked + 3 } });
    const fresh = vassal('b.ini', { startedAt: asked + 50 });
    const facts = emperor([file(rolling), file(fresh), file(vassal('c.ini'), { retiring: true })]);
    expect(reloadResults(facts, asked, { wait: false }).map((r) => [r.vassal, r.result])).toEqual([
      ['a.ini', 'done'],
      ['b.ini', 'started'],
    ]);
    expect(reloadResults(facts, asked, { wait: false, files: ['/etc/vassals/b.ini'] }).map((r) => r.vassal)).toEqual(['b.ini']);
  });
});
