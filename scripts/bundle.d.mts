export declare const external: string[];
export declare const commands: { in: string; out: string }[];
export declare function bundle(
  entryPoints: { in: string; out: string }[],
  outdir: string,
  options?: { chunks?: string; library?: boolean },
): Promise<void>;
