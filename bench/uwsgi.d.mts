export declare function uwsgiMissing(): string | undefined;
export declare function uwsgiHotAdd(rounds?: number): Promise<{ n: number; min: number; median: number; max: number; lingering: number }>;
