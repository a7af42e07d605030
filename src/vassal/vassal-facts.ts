import type { WorkerPhase } from './group-plan.js';

/**
 * What a vassal knows about itself at one moment, read-only (Vassal.snapshot()): plain data for the status
 * snapshot (src/control/), with no process figures (those are sampled from /proc by whoever asks). Times are ms
 * since the epoch.
 */
export interface VassalFacts {
  readonly name: string;
  readonly file: string;
  readonly startedAt: number;
  readonly stopping: boolean;
  /** Workers wanted (`processes` of the target generation). */
  readonly processes: number;
  /** The generation every worker should run. */
  readonly generation: number;
  /** A roll (first start or reload) is in progress. */
  readonly rolling: boolean;
  /** The last reload failed: its workers are not started, the previous generation keeps serving. */
  readonly rollBlocked: boolean;
  /** Reloads (new generations) started since the vassal started, and how many of them failed. */
  readonly reloads: number;
  readonly reloadFailures: number;
  readonly lastReload?: ReloadFacts;
  /** uid and gid the workers run as, when not the emperor's. */
  readonly uid?: number;
  readonly gid?: number;
  readonly sockets: readonly SocketFacts[];
  /** Live workers, by slot then age (during a roll a slot has its incumbent and its successor). */
  readonly workers: readonly WorkerFacts[];
  /** Slots 1..processes, with their history. */
  readonly slots: readonly SlotFacts[];
}

export interface ReloadFacts {
  readonly generation: number;
  readonly result: 'rolling' | 'done' | 'failed';
  readonly startedAt: number;
  readonly endedAt?: number;
  /** Why it failed: the successor's exit, its ready timeout, or a socket that could not be bound. */
  readonly error?: string;
  /** The failed successor's last output lines. */
  readonly output?: readonly string[];
}

export interface SocketFacts {
  /** Canonical address: a unix path or host:port; or systemd:NAME, a socket systemd passed the emperor. */
  readonly name: string;
  readonly kind: 'unix' | 'tcp' | 'systemd';
  /** chmod-socket as configured (undefined: the umask's result). */
  readonly mode?: number;
  /** chown-socket as written. */
  readonly owner?: string;
}

export interface WorkerFacts {
  /** The slot, 1..processes: uWSGI's worker id, SUPERVISOR_WORKER_ID. */
  readonly id: number;
  readonly pid: number | undefined;
  readonly generation: number;
  readonly phase: WorkerPhase;
  readonly startedAt: number;
  readonly readyAt?: number;
  /** Why it is being stopped (replaced, scale-down, restart, ...). */
  readonly stopReason?: string;
  /** Marked for replacement (recycling, a restart asked for). */
  readonly retiring: boolean;
}

export interface ExitRecord {
  readonly at: number;
  readonly pid: number | undefined;
  readonly code: number | null;
  readonly signal: string | null;
  /** We asked for it (a stop, a roll, a restart); false for a crash or an exit on its own. */
  readonly requested: boolean;
  readonly wasReady: boolean;
  readonly spawnError?: string;
}

export interface SlotFacts {
  readonly id: number;
  /** Workers of this slot that exited on their own (crashed) and were started again. */
  readonly restarts: number;
  /** Failures in a row (the crash-loop backoff's count). */
  readonly failures: number;
  /** Crash-loop backoff: no start before this time. */
  readonly retryAt?: number;
  readonly lastExit?: ExitRecord;
}
