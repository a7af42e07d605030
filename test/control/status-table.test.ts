import { describe, expect, it } from 'vitest';
import { buildSnapshot } from '../../src/control/snapshot.js';
import { bytes, duration, formatStatusTable, statusExitCode } from '../../src/control/status-table.js';
import { emperor, file, sample, slot, T0, table, vassal, worker } from './facts.js';

const now = T0 + 3 * 3600_000 + 125_000;

describe('the --status table', () => {
  it('says what runs at a glance: one line for the emperor, then per vassal state, ready/desired, pids, restarts, uptime, memory, CPU, last error', () => {
    const healthy = vassal('hello.ini');
    const looping = vassal('status.ini', {
      rolling: false,
      workers: [worker(1, 201)],
      slots: [slot(1), slot(2, { restarts: 7, failures: 7, retryAt: now + 8000, lastExit: { at: now - 2000, pid: 209, code: 3, signal: null, requested: false, wasReady: false } })],
    });
    const broken = file(undefined, { configError: { at: now - 60_000, errors: [{ file: '/etc/vassals/broken.ini', line: 3, message: 'unknown option "procesess"' }] } }, 'broken.ini');
    const processes = table([
      [1, 1, 1, 1],
      [101, 101, 12_800, 400],
      [102, 102, 12_800, 800],
      [201, 201, 5_000, 30],
    ]);
    const text = formatStatusTable(buildSnapshot(emperor([file(healthy), file(looping), broken]), { ...sample(now, processes), pid: 812 }));
    expect(text).toBe(
      [
        'emperor 812 (supervisor 0.1.0), up 3h02m, watching /etc/vassals: 3 vassals, 3 of 4 workers ready',
        'VASSAL      STATE    READY  PIDS     RESTARTS  UPTIME  RSS   CPU    LAST ERROR',
        'broken.ini  failed   0/0    -        0         -       -     -      /etc/vassals/broken.ini:3: unknown option "procesess" (1m00s ago)',
        'hello.ini   running  2/2    101,102  0         3h02m   100M  12.0s  -',
        'status.ini  backoff  1/2    201      7         3h02m   20M   0.3s   worker 2 exit code 3, 7 failures in a row; next start in 8 s (2s ago)',
        '',
      ].join('\n'),
    );
  });

  it('exits 0 only when every vassal runs its file\'s config with all its workers ready, else 3', () => {
    const ok = buildSnapshot(emperor([file(vassal('a.ini'))]), sample(now));
    expect(statusExitCode(ok)).toBe(0);
    const degraded = buildSnapshot(emperor([file(vassal('a.ini', { workers: [worker(1, 1), worker(2, 2, { phase: 'starting' })] }))]), sample(now));
    expect(statusExitCode(degraded)).toBe(3);
    expect(statusExitCode(buildSnapshot(emperor([file(undefined, { starting: true })]), sample(now)))).toBe(3);
    expect(statusExitCode(buildSnapshot(emperor([]), sample(now)))).toBe(0);
    // All ready, but not what the file says: its last reload failed, or the file has an error now.
    const failedReload = vassal('a.ini', { generation: 2, rollBlocked: true, lastReload: { generation: 2, result: 'failed', startedAt: now, error: 'x' } });
    expect(statusExitCode(buildSnapshot(emperor([file(failedReload)]), sample(now)))).toBe(3);
    const configError = file(vassal('a.ini'), { configError: { at: now, errors: [{ file: 'a.ini', line: 1, message: 'x' }] } });
    expect(statusExitCode(buildSnapshot(emperor([configError]), sample(now)))).toBe(3);
  });

  it('never lets a file name break a line, and cuts a long error', () => {
    const odd = file(vassal('a\nb\tc.ini', { file: '/v/a\nb\tc.ini' }), { configError: { at: now, errors: [{ file: '/v/x', message: 'x'.repeat(300) }] } });
    const lines = formatStatusTable(buildSnapshot(emperor([odd]), sample(now))).trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(/^a\\nb c\.ini /);
    expect(lines[2]).toMatch(/x…$/);
  });

  it('writes durations and sizes the way ps and top do', () => {
    expect([duration(0), duration(59.9), duration(61), duration(3600 * 5 + 61), duration(86_400 * 4 + 3600 * 3)]).toEqual(['0s', '59s', '1m01s', '5h01m', '4d03h']);
    expect([bytes(512), bytes(812 * 1024), bytes(48.1 * 1048576), bytes(1.2 * 1073741824)]).toEqual(['512B', '812K', '48M', '1.2G']);
  });
});
