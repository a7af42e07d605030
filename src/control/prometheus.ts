import type { Snapshot, VassalState, VassalStatus, WorkerStatus } from './snapshot.js';

/**
 * The snapshot in Prometheus' text exposition format (version 0.0.4), for `/metrics` on metrics-http and
 * `supervisor --metrics`. Names follow Prometheus' conventions: a `supervisor_` prefix, base units in the name
 * (`_bytes`, `_seconds`), `_total` on counters. Labels: `vassal` (the vassal's name; its full path when two
 * vassal files share a name), `worker` (the worker id, 1..processes), `state`. Pure.
 *
 * One series per worker id: during a roll, when a worker id has a serving worker and its successor, the figures are
 * those of the serving one (the successor's once it serves), so a series never flips between two processes.
 */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const STATES: readonly VassalState[] = ['starting', 'running', 'reloading', 'backoff', 'stopping', 'failed'];

type Labels = Readonly<Record<string, string>>;
interface Family {
  readonly name: string;
  readonly type: 'gauge' | 'counter';
  readonly help: string;
  readonly samples: { readonly labels: Labels; readonly value: number }[];
}

export function renderMetrics(snapshot: Snapshot): string {
  const families = new Map<string, Family>();
  const add = (name: string, type: Family['type'], help: string, labels: Labels, value: number | null | undefined): void => {
    if (value === null || value === undefined || !Number.isFinite(value)) return;
    let family = families.get(name);
    if (!family) {
      family = { name, type, help, samples: [] };
      families.set(name, family);
    }
    family.samples.push({ labels, value });
  };

  const e = snapshot.emperor;
  add('supervisor_emperor_start_time_seconds', 'gauge', 'When the emperor started, in seconds since the epoch.', {}, Date.parse(e.startedAt) / 1000);
  add('supervisor_emperor_resident_memory_bytes', 'gauge', 'Resident memory of the emperor process.', {}, e.rssBytes);
  add('supervisor_emperor_cpu_seconds_total', 'counter', 'CPU time (user and system) used by the emperor process.', {}, e.cpuSeconds);
  for (const state of STATES) {
    add('supervisor_vassals', 'gauge', 'Vassals in each state.', { state }, snapshot.vassals.filter((v) => v.state === state).length);
  }

  const names = new Map<string, number>();
  for (const v of snapshot.vassals) names.set(v.name, (names.get(v.name) ?? 0) + 1);
  for (const v of snapshot.vassals) {
    const vassal = { vassal: (names.get(v.name) ?? 0) > 1 ? v.file : v.name };
    for (const state of STATES) add('supervisor_vassal_state', 'gauge', 'The vassal\'s state: 1 for the state it is in, 0 for the others.', { ...vassal, state }, v.state === state ? 1 : 0);
    add('supervisor_vassal_workers', 'gauge', 'Workers the vassal should have (processes).', vassal, v.processes);
    add('supervisor_vassal_workers_ready', 'gauge', 'Workers of the vassal that are ready.', vassal, v.ready);
    add('supervisor_vassal_generation', 'gauge', 'The generation the vassal\'s workers should run (1 at start, one more per reload).', vassal, v.generation);
    add('supervisor_vassal_restarts_total', 'counter', 'Workers of the vassal restarted after they exited on their own.', vassal, v.restarts);
    add('supervisor_vassal_reloads_total', 'counter', 'Reloads (new generations) of the vassal.', vassal, v.reloads);
    add('supervisor_vassal_reload_failures_total', 'counter', 'Reloads of the vassal that failed (the previous generation kept serving).', vassal, v.reloadFailures);
    add('supervisor_vassal_config_errors', 'gauge', 'Errors in the last read of the vassal\'s file (0 when it loaded).', vassal, v.configErrors?.length ?? 0);
    add('supervisor_vassal_start_time_seconds', 'gauge', 'When the vassal started, in seconds since the epoch.', vassal, v.startedAt === undefined ? undefined : Date.parse(v.startedAt) / 1000);
    add('supervisor_vassal_resident_memory_bytes', 'gauge', 'Resident memory of the vassal\'s workers\' process groups.', vassal, v.rssBytes);
    for (const w of servingWorkers(v)) {
      const labels = { ...vassal, worker: String(w.id) };
      add('supervisor_worker_ready', 'gauge', 'Whether the worker is ready (1) or not (0).', labels, w.state === 'ready' ? 1 : 0);
      add('supervisor_worker_restarts_total', 'counter', 'Times this worker id was restarted after it exited on its own.', labels, w.restarts);
      add('supervisor_worker_start_time_seconds', 'gauge', 'When the worker process started, in seconds since the epoch.', labels, w.startedAt === undefined ? undefined : Date.parse(w.startedAt) / 1000);
      add('supervisor_worker_resident_memory_bytes', 'gauge', 'Resident memory of the worker process.', labels, w.rssBytes);
      add('supervisor_worker_cpu_seconds_total', 'counter', 'CPU time (user and system) used by the worker process.', labels, w.cpuSeconds);
      add('supervisor_worker_group_processes', 'gauge', 'Live processes in the worker\'s process group (itself and its descendants).', labels, w.group?.processes);
      add('supervisor_worker_group_resident_memory_bytes', 'gauge', 'Resident memory of the worker\'s whole process group.', labels, w.group?.rssBytes);
      add('supervisor_worker_group_cpu_seconds_total', 'counter', 'CPU time used by the worker\'s process group, with the children its members have reaped.', labels, w.group?.cpuSeconds);
    }
  }

  const lines: string[] = [];
  for (const f of families.values()) {
    lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) lines.push(`${f.name}${formatLabels(s.labels)} ${formatValue(s.value)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Per worker id, the worker that serves: the newest ready one not being stopped, else the newest live one, else the slot's entry. */
function servingWorkers(v: VassalStatus): WorkerStatus[] {
  const byId = new Map<number, WorkerStatus[]>();
  for (const w of v.workers) byId.set(w.id, [...(byId.get(w.id) ?? []), w]);
  return [...byId.values()].map((ws) => {
    const newestFirst = [...ws].reverse();
    return newestFirst.find((w) => w.state === 'ready') ?? newestFirst.find((w) => w.state !== 'stopping') ?? (newestFirst[0] as WorkerStatus);
  });
}

function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

/** Label values escape backslash, double quote and line feed (the exposition format's rules). */
export function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Math.round(value * 1000) / 1000);
}
