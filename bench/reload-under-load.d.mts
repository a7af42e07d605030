export interface WrkFigures {
  requests: number;
  non2xx: number;
  socketErrors: number;
  perSecond: number;
  p50Ms: number | undefined;
  p99Ms: number | undefined;
}
export declare function parseWrk(out: string): WrkFigures;
