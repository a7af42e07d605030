import type { VassalFacts } from '../vassal/vassal-facts.js';

/**
 * What the emperor knows at one moment, read-only (Emperor.snapshot()): plain data for the status snapshot
 * (src/control/). Times are ms since the epoch.
 */
export interface EmperorFacts {
  readonly startedAt: number;
  /** The `emperor` values: directories or globs. */
  readonly sources: readonly string[];
  readonly tyrant: boolean;
  /** File events came that have not been acted on yet (the settle timer runs). */
  readonly settling: boolean;
  /** A sync (read the files, act on the differences) is running. */
  readonly syncing: boolean;
  /** When the last sync finished, and why it ran. */
  readonly lastSync?: { readonly at: number; readonly trigger: string };
  /** Interval of the safety-net rescan now (ms); 0 when off. */
  readonly rescanMs: number;
  /** The longest it backs off to while nothing happens (ms): the same as emperor-freq when fixed. */
  readonly rescanMaxMs: number;
  readonly stopping: boolean;
  /** One entry per vassal file the emperor acts on, and per vassal still stopping after its file went. */
  readonly files: readonly VassalFileFacts[];
}

export interface VassalFileFacts {
  readonly file: string;
  /** The vassal's name: the file name. */
  readonly name: string;
  /** Content hash (sha256, hex) of the file as last read. */
  readonly hash?: string;
  /** Hash of the content the running vassal was last given (it runs or rolls to it). */
  readonly appliedHash?: string;
  /** The errors of the last read, when it had any (the running vassal, if any, keeps its previous config). */
  readonly configError?: ConfigErrorFacts;
  /** Why the last start failed (a socket in use, an unknown user), and when the next try is. */
  readonly startError?: { readonly at: number; readonly message: string; readonly failures: number; readonly retryAt: number };
  /** A start is in flight (binding its sockets). */
  readonly starting: boolean;
  /** Its file is gone: it is stopping. */
  readonly retiring: boolean;
  /** Tyrant mode: the owner it runs as (`uid:gid`). */
  readonly account?: string;
  readonly vassal?: VassalFacts;
}

export interface ConfigErrorFacts {
  readonly at: number;
  /** Each error as `file:line: error: message`, in reading order. */
  readonly errors: readonly { readonly file: string; readonly line?: number; readonly message: string }[];
  /** The cause is outside the file (a missing include, an unset variable): retried. */
  readonly retryAt?: number;
}
