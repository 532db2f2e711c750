/**
 * onceql as a library: `createServer` starts the same server `npm start` does, configured with
 * options rather than environment variables; `createClient` is the typed SDK with safe retries.
 */
import { type ConfigOptions, configFromOptions } from "./config.ts";
import { type RunningServer, startServer } from "./server.ts";

export type { ConfigOptions } from "./config.ts";
export { ConfigError } from "./config.ts";
export * from "./sdk/client.ts";
export type { RunningServer } from "./server.ts";

export async function createServer(options: ConfigOptions = {}): Promise<RunningServer> {
  return startServer({ config: configFromOptions(options) });
}
