export interface LoadResult {
  ok: number;
  failed: number;
  /** The first 20 failures: ISO time and reason (status 502, ECONNRESET, timeout, ...). */
  failures: string[];
  statuses: Record<string, number>;
  /** When the first and the last failure happened (ms since the epoch), if any. */
  firstFailureAt: number | undefined;
  lastFailureAt: number | undefined;
}
export declare function loadLoop(
  options: ({ host?: string; port: number; socketPath?: undefined } | { socketPath: string; port?: undefined; host?: undefined }) & { path?: string; connections?: number; timeoutMs?: number; pauseAfterFailureMs?: number },
): {
  result: LoadResult;
  stop(): Promise<LoadResult>;
};
