import type { Snapshot, VassalStatus } from './snapshot.js';

/**
 * `supervisor --status`: the snapshot as a table read at a glance, one line per vassal, after one line about the
 * emperor. Pure.
 *
 * ```
 * emperor 812 (supervisor 0.1.0), up 3h02m, watching /etc/vassals: 2 vassals, 3 of 4 workers ready
 * VASSAL      STATE    READY  PIDS       RESTARTS  UPTIME  RSS    CPU    LAST ERROR
 * hello.ini   running  2/2    4711,4712  0         3h01m   48.1M  1.2s   -
 * status.ini  backoff  1/2    4720       7         3h01m   22.0M  0.3s   worker 2 exit code 3, 7 failures in a row; next start in 8 s (2s ago)
 * ```
 */
export function formatStatusTable(snapshot: Snapshot, options: { readonly maxErrorLength?: number } = {}): string {
  const now = Date.parse(snapshot.at);
  const e = snapshot.emperor;
  const workers = snapshot.vassals.reduce((n, v) => n + v.processes, 0);
  const ready = snapshot.vassals.reduce((n, v) => n + v.ready, 0);
  const flags = [e.stopping ? 'stopping' : '', e.syncing ? 'reading vassal files' : e.settling ? 'files changing' : ''].filter(Boolean);
  const header =
    `emperor ${e.pid} (supervisor ${e.version}), up ${duration(e.uptimeSeconds)}, watching ${e.sources.join(', ')}${e.tyrant ? ' (tyrant mode)' : ''}: ` +
    `${plural(snapshot.vassals.length, 'vassal')}, ${ready} of ${workers} workers ready${flags.length ? ` (${flags.join(', ')})` : ''}`;
  if (snapshot.vassals.length === 0) return `${header}\n`;
  const rows = snapshot.vassals.map((v) => row(v, now, options.maxErrorLength ?? 100));
  const table = [['VASSAL', 'STATE', 'READY', 'PIDS', 'RESTARTS', 'UPTIME', 'RSS', 'CPU', 'LAST ERROR'], ...rows];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length)));
  const lines = table.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd());
  return `${header}\n${lines.join('\n')}\n`;
}

/**
 * The exit status of `supervisor --status`: 0 when every vassal is running what its file says with all its workers
 * ready, 3 otherwise (something starts, reloads, waits out a crash loop, stops or failed; or its file has errors, or
 * its last reload failed, so that an older generation serves), as `supervisorctl status` exits 3. Pure.
 */
export function statusExitCode(snapshot: Snapshot): 0 | 3 {
  const healthy = (v: VassalStatus): boolean => v.state === 'running' && v.ready === v.processes && v.configErrors === undefined && v.lastReload?.result !== 'failed';
  return snapshot.vassals.every(healthy) ? 0 : 3;
}

function row(v: VassalStatus, now: number, maxError: number): string[] {
  const pids = v.workers.filter((w) => w.pid !== null && w.state !== 'stopping').map((w) => String(w.pid));
  const shownPids = pids.length > 4 ? [...pids.slice(0, 3), `+${pids.length - 3}`] : pids;
  const alive = v.workers.some((w) => w.pid !== null);
  const error = v.lastError ? `${v.lastError.message} (${ago(now - Date.parse(v.lastError.at))})` : '-';
  return [
    oneLine(v.name),
    v.state,
    `${v.ready}/${v.processes}`,
    shownPids.length ? shownPids.join(',') : '-',
    String(v.restarts),
    v.uptimeSeconds !== undefined ? duration(v.uptimeSeconds) : '-',
    alive ? bytes(v.rssBytes) : '-',
    alive ? cpu(v.cpuSeconds) : '-',
    truncate(oneLine(error), maxError),
  ];
}

/**
 * A file name may hold a newline or a control character: never let one break the table, or send a terminal an
 * escape sequence (C0, DEL and C1: ESC and CSI start them).
 */
function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? ' ' : '?'));
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** 42s, 12m05s, 3h02m, 4d03h. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const pad = (n: number): string => String(n).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${pad(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86_400)}d${pad(Math.floor((s % 86_400) / 3600))}h`;
}

function ago(ms: number): string {
  return ms < 1000 ? 'just now' : `${duration(ms / 1000)} ago`;
}

/** 812K, 48.1M, 1.2G (binary units, as ps and top show them). */
export function bytes(n: number): string {
  const units = ['B', 'K', 'M', 'G', 'T'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value}B` : `${value < 10 ? value.toFixed(1) : Math.round(value)}${units[unit]}`;
}

/** 0.3s, 12.4s, 3m05s: CPU time used. */
function cpu(seconds: number): string {
  return seconds < 60 ? `${seconds.toFixed(1)}s` : duration(seconds);
}
