import type { EmperorFacts, VassalFileFacts } from '../emperor/emperor-facts.js';
import type { ExitRecord, SlotFacts, VassalFacts, WorkerFacts } from '../vassal/vassal-facts.js';
import { workerUsage, type ProcessTable, type Usage } from './process-figures.js';

/**
 * The status snapshot: what `supervisor --status --json` prints, what the control socket's `status` command answers,
 * what SIGUSR1 writes to the log, and what the table and the Prometheus text are made from. Built from the
 * emperor's facts and one sample of /proc and of the socket files (buildSnapshot is pure). Times are ISO 8601
 * strings (UTC), durations seconds, sizes bytes. A field that does not apply is absent; a figure that could not be
 * read (the process is gone) is null.
 */
export interface Snapshot {
  /** Format of this object; raised when a field changes meaning or goes away (fields may be added any time). */
  readonly format: 1;
  /** When it was taken. */
  readonly at: string;
  readonly emperor: EmperorStatus;
  readonly vassals: readonly VassalStatus[];
}

export interface EmperorStatus {
  readonly pid: number;
  readonly version: string;
  readonly startedAt: string;
  readonly uptimeSeconds: number;
  /** The `emperor` values: directories or globs. */
  readonly sources: readonly string[];
  readonly tyrant: boolean;
  /** File events came that have not been acted on yet. */
  readonly settling: boolean;
  /** The vassal files are being read and acted on now. */
  readonly syncing: boolean;
  readonly lastSync?: { readonly at: string; readonly trigger: string };
  /** The safety-net rescan's interval now; 0 when off. It backs off while nothing happens, up to rescanMaxSeconds. */
  readonly rescanSeconds: number;
  readonly rescanMaxSeconds: number;
  readonly stopping: boolean;
  /** The emperor process itself. */
  readonly rssBytes: number | null;
  readonly cpuSeconds: number | null;
}

/** What a vassal is doing, at a glance. */
export type VassalState = 'starting' | 'running' | 'reloading' | 'backoff' | 'stopping' | 'failed';

export interface VassalStatus {
  readonly name: string;
  readonly file: string;
  readonly state: VassalState;
  /** The generation every worker should run (1 at start, +1 per reload); absent when it never started. */
  readonly generation?: number;
  /** sha256 of the file's content as last read. */
  readonly configHash?: string;
  /** sha256 of the content the vassal runs (or rolls to); differs from configHash when the last read had errors. */
  readonly runningConfigHash?: string;
  readonly processes: number;
  /** Workers ready and not being stopped. */
  readonly ready: number;
  /** Worker restarts after a crash (an exit we did not ask for), all slots together. */
  readonly restarts: number;
  readonly reloads: number;
  readonly reloadFailures: number;
  readonly startedAt?: string;
  readonly uptimeSeconds?: number;
  /** Tyrant mode, or `uid`/`gid`: who the workers run as. */
  readonly uid?: number;
  readonly gid?: number;
  /** The one thing an operator should know first, if anything is wrong or went wrong. */
  readonly lastError?: LastError;
  /** The errors of the last read of its file, each at file:line (the running version, if any, is untouched). */
  readonly configErrors?: readonly { readonly file: string; readonly line?: number; readonly message: string }[];
  readonly lastReload?: {
    readonly generation: number;
    readonly result: 'rolling' | 'done' | 'failed';
    readonly startedAt: string;
    readonly endedAt?: string;
    readonly error?: string;
    readonly output?: readonly string[];
  };
  /** When the emperor tries again to start it (it failed to start, or its config's cause lies outside its file). */
  readonly nextTryAt?: string;
  readonly sockets: readonly SocketStatus[];
  readonly workers: readonly WorkerStatus[];
  /** Sums over its workers' process groups. */
  readonly rssBytes: number;
  readonly cpuSeconds: number;
}

export interface LastError {
  readonly at: string;
  readonly kind: 'config' | 'start' | 'reload' | 'crash';
  readonly message: string;
  /** For a config error: where. */
  readonly file?: string;
  readonly line?: number;
}

export interface SocketStatus {
  /** A unix path or host:port; or systemd:NAME, a socket systemd passed the emperor by that FileDescriptorName=. */
  readonly address: string;
  readonly kind: 'unix' | 'tcp' | 'systemd';
  /** The socket file as it is now (unix): mode (octal text), owner and group. */
  readonly mode?: string;
  readonly uid?: number;
  readonly gid?: number;
  /** Why the file could not be looked at (removed, replaced by something else). */
  readonly problem?: string;
  /** chmod-socket and chown-socket as configured. */
  readonly configuredMode?: string;
  readonly configuredOwner?: string;
}

export type WorkerState = 'starting' | 'ready' | 'stopping' | 'backoff' | 'down';

export interface WorkerStatus {
  /** 1..processes (SUPERVISOR_WORKER_ID). During a roll a worker id appears twice: the serving one and its successor. */
  readonly id: number;
  /** Null when the slot has no process (backoff, down). */
  readonly pid: number | null;
  readonly generation: number | null;
  readonly state: WorkerState;
  readonly startedAt?: string;
  readonly readySince?: string;
  readonly uptimeSeconds?: number;
  /** Why it is being stopped, or that it is being replaced. */
  readonly stopReason?: string;
  readonly retiring?: boolean;
  /** Crash restarts of this worker id, and crashes in a row (the backoff's count). */
  readonly restarts: number;
  readonly failuresInARow: number;
  readonly lastExit?: ExitStatus;
  /** Crash-loop backoff: its next start. */
  readonly nextStartAt?: string;
  /** The worker process itself. */
  readonly rssBytes: number | null;
  readonly cpuSeconds: number | null;
  /** Its whole process group: itself and every descendant still in the group (and the CPU of the ones reaped). */
  readonly group: Usage | null;
}

export interface ExitStatus {
  readonly at: string;
  readonly pid: number | null;
  readonly code: number | null;
  readonly signal: string | null;
  /** True when the supervisor stopped it (a roll, a stop, a restart); false for a crash. */
  readonly requested: boolean;
  readonly wasReady: boolean;
  /** "exit code 3", "signal SIGKILL", "could not start: ...". */
  readonly description: string;
}

/** A socket file as lstat saw it, or why it could not. */
export type SocketFileSample = { readonly mode: number; readonly uid: number; readonly gid: number; readonly isSocket: boolean } | { readonly error: string };

/** What was sampled for one snapshot, besides the emperor's own facts. */
export interface Sample {
  readonly now: number;
  readonly pid: number;
  readonly version: string;
  readonly processes: ProcessTable;
  readonly socketFiles: ReadonlyMap<string, SocketFileSample>;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const octal = (mode: number): string => `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
const round = (n: number, digits = 3): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** "exit code 3", "signal SIGKILL", "could not start: ENOENT". */
export function describeExitRecord(exit: Pick<ExitRecord, 'code' | 'signal' | 'spawnError'>): string {
  if (exit.spawnError) return `could not start: ${exit.spawnError}`;
  return exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}

/**
 * The state of a vassal file's vassal, decided in this order: stopping (its file went, or the emperor stops);
 * failed (it does not run: its config has errors or it could not start); backoff (a worker waits out a crash loop);
 * starting (its first generation is not all ready yet); reloading (a roll to a new generation); running. A
 * vassal whose last reload failed runs its previous generation: running, with the failure as its last error. Pure.
 */
export function vassalState(file: Pick<VassalFileFacts, 'retiring' | 'starting' | 'vassal'>, now: number): VassalState {
  const v = file.vassal;
  if (file.retiring || v?.stopping) return 'stopping';
  if (!v) return file.starting ? 'starting' : 'failed';
  if (v.slots.some((s) => s.id <= v.processes && s.retryAt !== undefined && s.retryAt > now && !v.workers.some((w) => w.id === s.id && w.phase !== 'stopping'))) return 'backoff';
  if (v.rolling) return v.generation === 1 ? 'starting' : 'reloading';
  return 'running';
}

/** Builds the snapshot from the emperor's facts and a sample. Pure. */
export function buildSnapshot(facts: EmperorFacts, sample: Sample): Snapshot {
  const { now } = sample;
  const own = workerUsage(sample.processes, sample.pid).self;
  return {
    format: 1,
    at: iso(now),
    emperor: {
      pid: sample.pid,
      version: sample.version,
      startedAt: iso(facts.startedAt),
      uptimeSeconds: round((now - facts.startedAt) / 1000, 1),
      sources: facts.sources,
      tyrant: facts.tyrant,
      settling: facts.settling,
      syncing: facts.syncing,
      ...(facts.lastSync ? { lastSync: { at: iso(facts.lastSync.at), trigger: facts.lastSync.trigger } } : {}),
      rescanSeconds: facts.rescanMs / 1000,
      rescanMaxSeconds: facts.rescanMaxMs / 1000,
      stopping: facts.stopping,
      rssBytes: own?.rssBytes ?? null,
      cpuSeconds: own ? round(own.cpuSeconds, 2) : null,
    },
    vassals: [...facts.files].sort((a, b) => compareNames(a.name, b.name) || compareNames(a.file, b.file)).map((f) => vassalStatus(f, sample)),
  };
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function vassalStatus(f: VassalFileFacts, sample: Sample): VassalStatus {
  const { now } = sample;
  const v = f.vassal;
  const workers = v ? workerStatuses(v, sample) : [];
  const live = workers.filter((w) => w.pid !== null);
  const configErrors = f.configError?.errors;
  const nextTry = f.startError?.retryAt ?? f.configError?.retryAt;
  return {
    name: f.name,
    file: f.file,
    state: vassalState(f, now),
    ...(v ? { generation: v.generation } : {}),
    ...(f.hash ? { configHash: f.hash } : {}),
    ...(f.appliedHash ? { runningConfigHash: f.appliedHash } : {}),
    processes: v?.processes ?? 0,
    ready: v ? v.workers.filter((w) => w.phase === 'ready').length : 0,
    restarts: v ? v.slots.reduce((n, s) => n + s.restarts, 0) : 0,
    reloads: v?.reloads ?? 0,
    reloadFailures: v?.reloadFailures ?? 0,
    ...(v ? { startedAt: iso(v.startedAt), uptimeSeconds: round((now - v.startedAt) / 1000, 1) } : {}),
    ...(v?.uid !== undefined ? { uid: v.uid, gid: v.gid } : {}),
    ...optional('lastError', lastError(f, now)),
    ...(configErrors ? { configErrors } : {}),
    ...(v?.lastReload
      ? {
          lastReload: {
            generation: v.lastReload.generation,
            result: v.lastReload.result,
            startedAt: iso(v.lastReload.startedAt),
            ...(v.lastReload.endedAt !== undefined ? { endedAt: iso(v.lastReload.endedAt) } : {}),
            ...optional('error', v.lastReload.error),
            ...optional('output', v.lastReload.output),
          },
        }
      : {}),
    ...(nextTry !== undefined && nextTry > now ? { nextTryAt: iso(nextTry) } : {}),
    sockets: (v?.sockets ?? []).map((s) => socketStatus(s, sample)),
    workers,
    rssBytes: live.reduce((n, w) => n + (w.group?.rssBytes ?? w.rssBytes ?? 0), 0),
    cpuSeconds: round(live.reduce((n, w) => n + (w.group?.cpuSeconds ?? w.cpuSeconds ?? 0), 0), 2),
  };
}

function optional<K extends string, T>(key: K, value: T | undefined): { [P in K]?: T } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: T };
}

function socketStatus(s: VassalFacts['sockets'][number], sample: Sample): SocketStatus {
  const base = {
    address: s.name,
    kind: s.kind,
    ...(s.mode !== undefined ? { configuredMode: octal(s.mode) } : {}),
    ...optional('configuredOwner', s.owner),
  };
  if (s.kind !== 'unix') return base;
  const file = sample.socketFiles.get(s.name);
  if (!file) return base;
  if ('error' in file) return { ...base, problem: file.error };
  if (!file.isSocket) return { ...base, problem: 'the path is no longer a socket' };
  return { ...base, mode: octal(file.mode), uid: file.uid, gid: file.gid };
}

function exitStatus(exit: ExitRecord): ExitStatus {
  return {
    at: iso(exit.at),
    pid: exit.pid ?? null,
    code: exit.code,
    signal: exit.signal,
    requested: exit.requested,
    wasReady: exit.wasReady,
    description: describeExitRecord(exit),
  };
}

/** One entry per live worker, and one per slot that has none (backoff, or down while it is replaced). */
function workerStatuses(v: VassalFacts, sample: Sample): WorkerStatus[] {
  const { now } = sample;
  const slots = new Map(v.slots.map((s) => [s.id, s]));
  const history = (slot: SlotFacts | undefined): Pick<WorkerStatus, 'restarts' | 'failuresInARow' | 'lastExit'> => ({
    restarts: slot?.restarts ?? 0,
    failuresInARow: slot?.failures ?? 0,
    ...(slot?.lastExit ? { lastExit: exitStatus(slot.lastExit) } : {}),
  });
  const running = (w: WorkerFacts): WorkerStatus => {
    const usage = workerUsage(sample.processes, w.pid);
    return {
      id: w.id,
      pid: w.pid ?? null,
      generation: w.generation,
      state: w.phase,
      startedAt: iso(w.startedAt),
      ...(w.readyAt !== undefined ? { readySince: iso(w.readyAt) } : {}),
      uptimeSeconds: round((now - w.startedAt) / 1000, 1),
      ...optional('stopReason', w.stopReason),
      ...(w.retiring ? { retiring: true } : {}),
      ...history(slots.get(w.id)),
      rssBytes: usage.self?.rssBytes ?? null,
      cpuSeconds: usage.self ? round(usage.self.cpuSeconds, 2) : null,
      group: usage.group ? { ...usage.group, cpuSeconds: round(usage.group.cpuSeconds, 2) } : null,
    };
  };
  const result: WorkerStatus[] = [];
  for (const slot of v.slots) {
    const inSlot = v.workers.filter((w) => w.id === slot.id);
    result.push(...inSlot.map(running));
    if (slot.id > v.processes || inSlot.some((w) => w.phase !== 'stopping')) continue;
    const backoff = slot.retryAt !== undefined && slot.retryAt > now;
    result.push({
      id: slot.id,
      pid: null,
      generation: null,
      state: backoff ? 'backoff' : 'down',
      ...history(slot),
      ...(backoff ? { nextStartAt: iso(slot.retryAt as number) } : {}),
      rssBytes: null,
      cpuSeconds: null,
      group: null,
    });
  }
  return result;
}

/**
 * The one problem to show first, most pressing first: the config does not load; the vassal cannot start; its last
 * reload failed (while the previous generation serves); a worker waits out a crash loop; else the most recent crash.
 */
function lastError(f: VassalFileFacts, now: number): LastError | undefined {
  const first = f.configError?.errors[0];
  if (f.configError && first) {
    const more = f.configError.errors.length > 1 ? ` (and ${f.configError.errors.length - 1} more)` : '';
    const where = first.line ? `${first.file}:${first.line}` : first.file;
    return { at: iso(f.configError.at), kind: 'config', message: `${where}: ${first.message}${more}`, file: first.file, ...optional('line', first.line) };
  }
  if (f.startError && !f.vassal) return { at: iso(f.startError.at), kind: 'start', message: `cannot start: ${f.startError.message}` };
  const v = f.vassal;
  if (!v) return undefined;
  if (v.lastReload?.result === 'failed') {
    return { at: iso(v.lastReload.endedAt ?? v.lastReload.startedAt), kind: 'reload', message: `reload to generation ${v.lastReload.generation} failed: ${v.lastReload.error ?? 'unknown error'}` };
  }
  const crashes = v.slots.flatMap((s) => (s.lastExit && !s.lastExit.requested ? [{ slot: s, exit: s.lastExit }] : []));
  const backoff = crashes.find(({ slot }) => slot.retryAt !== undefined && slot.retryAt > now);
  const latest = backoff ?? crashes.sort((a, b) => b.exit.at - a.exit.at)[0];
  if (!latest) return undefined;
  const { slot, exit } = latest;
  const streak = slot.failures > 1 ? `, ${slot.failures} failures in a row` : '';
  const next = slot.retryAt !== undefined && slot.retryAt > now ? `; next start in ${Math.ceil((slot.retryAt - now) / 1000)} s` : '';
  return { at: iso(exit.at), kind: 'crash', message: `worker ${slot.id} ${describeExitRecord(exit)}${streak}${next}` };
}
