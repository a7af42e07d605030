export interface CpuSummary {
  file: string;
  wallMs: number;
  busyMs: number;
  categories: [string, number][];
  modules: [string, number][];
  functions: [string, number][];
  spawns: [string, number][];
  timeline: ({ idle: number; bindSpawn: number; otherSpawn: number; other: number } | undefined)[];
}
export declare function summariseCpuProfile(file: string): CpuSummary;
export interface HeapGrowthRow {
  key: string;
  count: number;
  bytes: number;
  countAfter: number;
  bytesAfter: number;
}
export declare function heapDiff(
  a: string,
  b: string,
): { before: { bytes: number; nodes: number }; after: { bytes: number; nodes: number }; byBytes: HeapGrowthRow[]; byCount: HeapGrowthRow[] };
export declare const KEEP_SIGPROF: string;
