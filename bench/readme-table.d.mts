export declare const START: string;
export declare const END: string;
export declare function pasteTable(readme: string, table: string): string;
