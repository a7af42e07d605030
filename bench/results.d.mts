export interface Figure {
  workload: string;
  label: string;
  peer: 'supervisor' | 'tyrant' | 'uwsgi';
  unit: string;
  min: number;
  median: number;
  max: number;
  n: number;
}
export interface ResultsJson {
  date: string;
  machine: { cpus: number; model?: string; memoryMiB: number; kernel: string; node: string; loadAverage: number[]; bareNodeStartMs: number };
  versions: { supervisor: string; uwsgi?: string; nginx?: string; wrk?: string };
  figures: Figure[];
  notices: string[];
  errors: { workload: string; message: string }[];
}
export declare const PEERS: Record<Figure['peer'], string>;
export declare function formatValue(value: number, unit: string): string;
export declare function markdown(results: ResultsJson): string;
