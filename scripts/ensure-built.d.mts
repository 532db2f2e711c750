export declare const root: string;
export declare const stampFile: string;
export declare function staleness(): string | undefined;
export declare function ensureBuilt(): void;
