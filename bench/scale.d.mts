export interface ScaleResult {
  skipped?: string;
  vassals: number;
  workers: number;
  program: 'node' | 'sleep';
  tyrant: boolean;
  dir: string;
  /** When this process read the last spawn and ready records, ms after it started the emperor. */
  spawnedMs: number;
  readyMs: number;
  /** The same, by those records' own times (the emperor's clock). */
  spawnedOwnMs: number;
  readyOwnMs: number;
  emperorStartCpuMs: number;
  workerCpuMs: number;
  floorMs: number;
  cpuUnread: number;
  idleCpuMsPer30s: number;
  /** The window after that one (the start's garbage collected by then), per 30 s. */
  laterIdleCpuMsPer30s: number;
  idleSeconds: number;
  rssKiB: number;
  pssKiB: number;
  allRssKiB: number;
  allPssKiB: number;
  reloadMs: number;
  stopMs: number;
  leftovers: number;
  problems: string[];
  problemCounts: Record<string, number>;
}
export declare function tenantAccount(name?: string): { name: string; uid: number; gid: number } | undefined;
export declare function scaleSupervisor(options?: {
  vassals?: number;
  workers?: number;
  program?: 'node' | 'sleep';
  tyrant?: boolean;
  idleSeconds?: number;
  nodeArgs?: string[];
}): Promise<ScaleResult>;
