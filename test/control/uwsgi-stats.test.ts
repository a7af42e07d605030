import { describe, expect, it } from 'vitest';
import { buildSnapshot } from '../../src/control/snapshot.js';
import { uwsgiEmperorStats } from '../../src/control/uwsgi-stats.js';
import { emperor, file, sample, slot, T0, vassal, worker } from './facts.js';

// The keys uWSGI's emperor_send_stats writes (core/emperor.c, uWSGI 2.0), in its order.
const TOP_KEYS = ['version', 'pid', 'uid', 'gid', 'cwd', 'emperor', 'emperor_tyrant', 'throttle_level', 'vassals', 'blacklist'];
const VASSAL_KEYS = [
  'id', 'pid', 'born', 'last_mod', 'last_heartbeat', 'loyal', 'ready', 'accepting', 'last_loyal', 'last_ready', 'last_accepting', 'first_run',
  'last_run', 'cursed', 'zerg', 'on_demand', 'suspended', 'adopted', 'uid', 'gid', 'monitor', 'attrs', 'respawns',
];
const BLACKLIST_KEYS = ['id', 'throttle_level', 'attempt', 'first_attempt', 'last_attempt'];

describe("uWSGI's emperor stats JSON", () => {
  const now = T0 + 100_000;
  const running = vassal('app.ini', { uid: 1000, gid: 1000, slots: [slot(1, { restarts: 2 }), slot(2)], workers: [worker(1, 101, { readyAt: T0 + 2000 }), worker(2, 102, { readyAt: T0 + 3000 })] });
  const starting = vassal('new.ini', { file: '/srv/deploy/new.ini', rolling: true, workers: [worker(1, 201, { phase: 'starting', readyAt: undefined })], slots: [slot(1)], processes: 1 });
  const failed = file(undefined, { startError: { at: T0 + 5000, message: 'address in use', failures: 3, retryAt: now + 1000 } }, 'bad.ini');
  const stats = uwsgiEmperorStats(buildSnapshot(emperor([file(running), file(starting), failed], { sources: ['/etc/vassals', '/srv/*/new.ini'], tyrant: true }), sample(now)), { uid: 0, gid: 0, cwd: '/' });

  it('has uWSGI\'s keys, in its order, for the emperor, each vassal and each blacklisted vassal', () => {
    expect(Object.keys(stats)).toEqual(TOP_KEYS);
    for (const v of stats.vassals) expect(Object.keys(v)).toEqual(VASSAL_KEYS);
    for (const b of stats.blacklist) expect(Object.keys(b)).toEqual(BLACKLIST_KEYS);
  });

  it('gives what this emperor has in uWSGI\'s units: seconds since the epoch, 0/1 flags, the first serving pid', () => {
    expect(stats).toMatchObject({ version: '0.1.0', pid: 1, emperor: ['/etc/vassals', '/srv/*/new.ini'], emperor_tyrant: 1, throttle_level: 0 });
    expect(stats.vassals[0]).toMatchObject({
      id: 'app.ini',
      pid: 101,
      born: T0 / 1000,
      ready: 1,
      accepting: 1,
      loyal: 1,
      last_ready: (T0 + 3000) / 1000,
      uid: 1000,
      monitor: '/etc/vassals',
      attrs: [],
      respawns: 2,
    });
    expect(stats.vassals[1]).toMatchObject({ id: 'new.ini', pid: 201, ready: 0, uid: 0, monitor: '/srv/*/new.ini' });
    expect(stats.blacklist).toEqual([{ id: 'bad.ini', throttle_level: 0, attempt: 1, first_attempt: (T0 + 5000) / 1000, last_attempt: (T0 + 5000) / 1000 }]);
  });
});
