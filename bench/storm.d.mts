export declare function runStorm(
  dir: string,
  options: { files?: number; rounds?: number; pauseMs?: number; ini: (i: number, edited: boolean) => string },
): Promise<{ finalNames: string[]; ops: number; endedAt: number }>;
