import type { EmperorFacts, VassalFileFacts } from '../../src/emperor/emperor-facts.js';
import { processTable, type ProcessTable, type ProcFigures } from '../../src/control/process-figures.js';
import type { Sample } from '../../src/control/snapshot.js';
import type { SlotFacts, VassalFacts, WorkerFacts } from '../../src/vassal/vassal-facts.js';

/** Builders of the emperor's facts for the pure control modules' tests: plain data, as Emperor.snapshot() gives. */

export const T0 = Date.parse('2026-01-01T00:00:00.000Z');

export function worker(id: number, pid: number, overrides: Partial<WorkerFacts> = {}): WorkerFacts {
  return { id, pid, generation: 1, phase: 'ready', startedAt: T0, readyAt: T0 + 500, retiring: false, ...overrides };
}

export function slot(id: number, overrides: Partial<SlotFacts> = {}): SlotFacts {
  return { id, restarts: 0, failures: 0, ...overrides };
}

export function vassal(name: string, overrides: Partial<VassalFacts> = {}): VassalFacts {
  return {
    name,
    file: `/etc/vassals/${name}`,
    startedAt: T0,
    stopping: false,
    processes: 2,
    generation: 1,
    rolling: false,
    rollBlocked: false,
    reloads: 0,
    reloadFailures: 0,
    sockets: [],
    workers: [worker(1, 101), worker(2, 102)],
    slots: [slot(1), slot(2)],
    ...overrides,
  };
}

export function file(v: VassalFacts | undefined, overrides: Partial<VassalFileFacts> = {}, name = v?.name ?? 'x.ini'): VassalFileFacts {
  return { file: v?.file ?? `/etc/vassals/${name}`, name, hash: 'a'.repeat(64), appliedHash: 'a'.repeat(64), starting: false, retiring: false, vassal: v, ...overrides };
}

export function emperor(files: VassalFileFacts[], overrides: Partial<EmperorFacts> = {}): EmperorFacts {
  return { startedAt: T0, sources: ['/etc/vassals'], tyrant: false, settling: false, syncing: false, rescanMs: 3000, rescanMaxMs: 30000, stopping: false, files, ...overrides };
}

/** A process table: [pid, pgrp, rss pages, cpu ticks (utime+stime), reaped children's ticks]. */
export function table(rows: readonly [number, number, number, number, number?][], extra: Partial<ProcFigures> = {}): ProcessTable {
  const figures = rows.map(([pid, pgrp, rssPages, ticks, children = 0]) => ({ pid, pgrp, state: 'S', utime: ticks, stime: 0, cutime: children, cstime: 0, rssPages, ...extra }));
  return processTable(figures, 4096, 100);
}

export function sample(now: number, processes: ProcessTable = table([]), socketFiles: Sample['socketFiles'] = new Map()): Sample {
  return { now, pid: 1, version: '0.1.0', processes, socketFiles };
}
