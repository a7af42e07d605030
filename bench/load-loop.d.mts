export interface LoadResult {
  ok: number;
  failed: number;
  /** The first 20 failures: ISO time and reason (status 502, ECONNRESET, timeout, ...). */
  failures: string[];
  statuses: Record<string, number>;
}
export declare function loadLoop(options: { host?: string; port: number; path?: string; connections?: number; timeoutMs?: number }): {
  result: LoadResult;
  stop(): Promise<LoadResult>;
};
