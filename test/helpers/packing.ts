import { spawn } from "node:child_process";
import { once } from "node:events";

/**
 * The environment without what npm hands to `npm test`'s script (npm_package_*, npm_lifecycle_*,
 * npm_config_*, which a nested npm would read as its settings), so that the commands below run as
 * in a fresh shell, and without NODE_OPTIONS, so that `node` is plain Node. The cache, registry and
 * proxy settings stay.
 */
const KEPT_NPM = /^npm_config_(cache|userconfig|globalconfig|cafile|registry|proxy|https_proxy|noproxy|strict_ssl)$/i;
export const baseEnv: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !(/^npm_/i.test(name) && !KEPT_NPM.test(name)) && name !== "NODE_OPTIONS"),
);

export interface Ran {
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command as in a fresh shell; if it fails, the error says which and carries all it printed. */
export async function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<Ran> {
  const started = performance.now();
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...baseEnv, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
    timeout: options.timeoutMs ?? 120_000,
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const [code, signal] = (await once(child, "close")) as [number | null, NodeJS.Signals | null];
  if (code !== 0) {
    const shown = [command === process.execPath ? "node" : command, ...args].join(" ");
    throw new Error(`\`${shown}\` in ${options.cwd} ended with ${code ?? signal}\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`);
  }
  return { stdout, stderr, ms: performance.now() - started };
}
