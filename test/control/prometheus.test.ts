import { describe, expect, it } from 'vitest';
import { renderMetrics } from '../../src/control/prometheus.js';
import { buildSnapshot } from '../../src/control/snapshot.js';
import { PROMETHEUS_SKIP, parseMetrics, type ParsedFamily } from '../support/prometheus.js';
import { emperor, file, sample, slot, T0, table, vassal, worker } from './facts.js';

const now = T0 + 60_000;

function family(families: ParsedFamily[], name: string): ParsedFamily {
  const found = families.find((f) => f.name === name);
  if (!found) throw new Error(`no family ${name} in ${families.map((f) => f.name).join(', ')}`);
  return found;
}

describe.skipIf(Boolean(PROMETHEUS_SKIP))(`Prometheus text, read by the official Python client's parser${PROMETHEUS_SKIP}`, () => {
  it('has counters with _total and units in the names, per vassal and per worker, and parses as the types it says', () => {
    const v = vassal('app.ini', {
      reloads: 3,
      reloadFailures: 1,
      generation: 4,
      slots: [slot(1, { restarts: 2 }), slot(2)],
    });
    const processes = table([
      [1, 1, 100, 100],
      [101, 101, 256, 150, 50],
      [102, 102, 512, 20],
    ]);
    const families = parseMetrics(renderMetrics(buildSnapshot(emperor([file(v)]), sample(now, processes))));
    // The parser drops _total from a counter family's name; its samples keep it.
    expect(family(families, 'supervisor_vassal_restarts')).toMatchObject({ type: 'counter', samples: [{ name: 'supervisor_vassal_restarts_total', labels: { vassal: 'app.ini' }, value: 2 }] });
    expect(family(families, 'supervisor_vassal_reloads').samples[0]?.value).toBe(3);
    expect(family(families, 'supervisor_vassal_reload_failures').samples[0]?.value).toBe(1);
    expect(family(families, 'supervisor_vassal_workers_ready')).toMatchObject({ type: 'gauge', samples: [{ value: 2 }] });
    expect(family(families, 'supervisor_vassal_generation').samples[0]?.value).toBe(4);
    expect(family(families, 'supervisor_worker_resident_memory_bytes').samples).toEqual([
      { name: 'supervisor_worker_resident_memory_bytes', labels: { vassal: 'app.ini', worker: '1' }, value: 256 * 4096 },
      { name: 'supervisor_worker_resident_memory_bytes', labels: { vassal: 'app.ini', worker: '2' }, value: 512 * 4096 },
    ]);
    expect(family(families, 'supervisor_worker_cpu_seconds')).toMatchObject({ type: 'counter', samples: [{ value: 1.5 }, { value: 0.2 }] });
    expect(family(families, 'supervisor_worker_group_cpu_seconds').samples[0]?.value).toBe(2);
    expect(family(families, 'supervisor_worker_restarts').samples.map((s) => s.value)).toEqual([2, 0]);
    expect(family(families, 'supervisor_vassal_state').samples.filter((s) => s.value === 1).map((s) => s.labels.state)).toEqual(['running']);
    expect(family(families, 'supervisor_emperor_cpu_seconds').samples[0]?.value).toBe(1);
    for (const f of families) expect(f.documentation).not.toBe('');
  });

  it('escapes any file name in a label (quotes, backslashes, newlines), and tells two vassals of one name apart by path', () => {
    const odd = 'we"ird\\na\nme.ini';
    const families = parseMetrics(
      renderMetrics(
        buildSnapshot(
          emperor([file(vassal(odd, { file: `/v/${odd}` })), file(vassal('app.ini', { file: '/a/app.ini' })), file(vassal('app.ini', { file: '/b/app.ini' }))]),
          sample(now),
        ),
      ),
    );
    expect(family(families, 'supervisor_vassal_workers').samples.map((s) => s.labels.vassal)).toEqual(['/a/app.ini', '/b/app.ini', odd]);
  });

  it('gives one series per worker id during a roll (the serving worker\'s), and a backoff slot as not ready', () => {
    const v = vassal('app.ini', {
      generation: 2,
      rolling: true,
      workers: [worker(1, 101), worker(1, 111, { generation: 2, phase: 'starting', readyAt: undefined })],
      slots: [slot(1), slot(2, { retryAt: now + 1000, restarts: 5 })],
    });
    const families = parseMetrics(renderMetrics(buildSnapshot(emperor([file(v)]), sample(now, table([[101, 101, 10, 0], [111, 111, 20, 0]])))));
    expect(family(families, 'supervisor_worker_ready').samples.map((s) => [s.labels.worker, s.value])).toEqual([
      ['1', 1],
      ['2', 0],
    ]);
    expect(family(families, 'supervisor_worker_resident_memory_bytes').samples.map((s) => s.value)).toEqual([10 * 4096]);
  });

  it('is valid with no vassal at all', () => {
    expect(family(parseMetrics(renderMetrics(buildSnapshot(emperor([]), sample(now)))), 'supervisor_vassals').samples).toHaveLength(6);
  });
});
