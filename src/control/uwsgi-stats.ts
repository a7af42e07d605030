import path from 'node:path';
import type { Snapshot, VassalStatus } from './snapshot.js';

/**
 * The snapshot in the shape of uWSGI's emperor stats server (`emperor-stats`: core/emperor.c, emperor_send_stats),
 * so tools written for it keep working: the same keys, in the same order, with the same meanings where this emperor
 * has the thing, and uWSGI's value for "none" where it has not (zerg, on-demand sockets, curses, heartbeats: 0 or
 * ""). A uWSGI vassal is one instance with one pid (its master); here a vassal is a group of workers, so `pid` is
 * its first serving worker's. Times are seconds since the epoch, as there. Pure.
 */
export interface UwsgiEmperorStats {
  readonly version: string;
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
  readonly cwd: string;
  readonly emperor: readonly string[];
  readonly emperor_tyrant: number;
  readonly throttle_level: number;
  readonly vassals: readonly UwsgiVassal[];
  readonly blacklist: readonly UwsgiBlacklisted[];
}

export interface UwsgiVassal {
  readonly id: string;
  readonly pid: number;
  readonly born: number;
  readonly last_mod: number;
  readonly last_heartbeat: number;
  readonly loyal: number;
  readonly ready: number;
  readonly accepting: number;
  readonly last_loyal: number;
  readonly last_ready: number;
  readonly last_accepting: number;
  readonly first_run: number;
  readonly last_run: number;
  readonly cursed: number;
  readonly zerg: number;
  readonly on_demand: string;
  readonly suspended: number;
  readonly adopted: number;
  readonly uid: number;
  readonly gid: number;
  readonly monitor: string;
  readonly attrs: readonly never[];
  readonly respawns: number;
}

export interface UwsgiBlacklisted {
  readonly id: string;
  readonly throttle_level: number;
  readonly attempt: number;
  readonly first_attempt: number;
  readonly last_attempt: number;
}

const seconds = (iso: string | undefined): number => (iso === undefined ? 0 : Math.floor(Date.parse(iso) / 1000));

export function uwsgiEmperorStats(snapshot: Snapshot, process: { readonly uid: number; readonly gid: number; readonly cwd: string }): UwsgiEmperorStats {
  const e = snapshot.emperor;
  return {
    version: e.version,
    pid: e.pid,
    uid: process.uid,
    gid: process.gid,
    cwd: process.cwd,
    emperor: e.sources,
    emperor_tyrant: e.tyrant ? 1 : 0,
    throttle_level: 0,
    vassals: snapshot.vassals.filter((v) => v.generation !== undefined).map((v) => vassal(v, e.sources, process)),
    blacklist: snapshot.vassals.filter((v) => v.state === 'failed').map((v) => ({
      id: v.name,
      throttle_level: 0,
      attempt: v.lastError?.kind === 'start' ? 1 : 0,
      first_attempt: seconds(v.lastError?.at),
      last_attempt: seconds(v.lastError?.at),
    })),
  };
}

function vassal(v: VassalStatus, sources: readonly string[], owner: { readonly uid: number; readonly gid: number }): UwsgiVassal {
  const serving = v.workers.filter((w) => w.pid !== null && w.state !== 'stopping');
  const readyTimes = serving.flatMap((w) => (w.readySince ? [seconds(w.readySince)] : []));
  const allReady = v.processes > 0 && v.ready >= v.processes;
  const lastReady = readyTimes.length ? Math.max(...readyTimes) : 0;
  return {
    id: v.name,
    pid: (serving.find((w) => w.state === 'ready') ?? serving[0])?.pid ?? 0,
    born: seconds(v.startedAt),
    last_mod: seconds(v.lastReload?.startedAt ?? v.startedAt),
    last_heartbeat: 0,
    loyal: allReady ? 1 : 0,
    ready: allReady ? 1 : 0,
    accepting: allReady ? 1 : 0,
    last_loyal: lastReady,
    last_ready: lastReady,
    last_accepting: lastReady,
    first_run: seconds(v.startedAt),
    last_run: Math.max(0, ...serving.map((w) => seconds(w.startedAt))),
    cursed: 0,
    zerg: 0,
    on_demand: '',
    suspended: 0,
    adopted: 0,
    uid: v.uid ?? owner.uid,
    gid: v.gid ?? owner.gid,
    monitor: monitorOf(v.file, sources),
    attrs: [],
    respawns: v.restarts,
  };
}

/** The `emperor` value a file was found by: the directory that holds it, or the glob whose fixed part it is under. */
function monitorOf(file: string, sources: readonly string[]): string {
  const dir = path.dirname(file);
  return (
    sources.find((s) => s === dir || s === `${dir}/`) ??
    sources.find((s) => {
      const wildcard = s.search(/[*?[{]/);
      return wildcard >= 0 && file.startsWith(s.slice(0, wildcard));
    }) ??
    sources[0] ??
    ''
  );
}
