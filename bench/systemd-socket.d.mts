import type { LoadResult } from './load-loop.mjs';

export type HolderSocket = { unix: string } | { tcp: [string, number] };

export interface SocketHolder {
  readonly pid: number;
  readonly events: readonly Record<string, unknown>[];
  /** What the commands it started printed, stdout and stderr. */
  readonly output: readonly string[];
  /** Resolves once every socket listens. */
  readonly listening: Promise<unknown>;
  start(): Promise<number>;
  startMany(n: number): Promise<number[]>;
  exitOf(pid: number, timeoutMs?: number): Promise<{ code: number | null; signal: number | null }>;
  close(): Promise<void>;
}

export declare function startHolder(options: { sockets: readonly HolderSocket[]; names: readonly string[]; argv: readonly string[]; env?: Record<string, string>; baseEnv?: Record<string, string | undefined> }): SocketHolder;

export declare function restartsUnderLoad(options: {
  targets: readonly ({ socketPath: string } | { port: number })[];
  restarts: number;
  stop: (i: number) => Promise<void>;
  start: (i: number) => Promise<void>;
}): Promise<{ results: LoadResult[]; durations: number[] }>;
