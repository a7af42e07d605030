export declare const NGINX: string | undefined;
export declare function freePort(): Promise<number>;
export declare function writeNginxHttpConf(dir: string, http: readonly string[], options?: { workers?: number; user?: string }): { conf: string; errorLog: string };
export declare function writeNginxConf(dir: string, port: number, upstreamSocket: string, options?: { workers?: number; uwsgi?: boolean; user?: string }): { conf: string; errorLog: string };
