/**
 * onceql as a library: `createServer` starts the same server `npm start` does, configured with
 * options rather than environment variables. The typed SDK (`createClient`) is its own package,
 * @onceql/client (packages/client).
 */
import { type ConfigOptions, configFromOptions } from "./config.ts";
import { type RunningServer, startServer } from "./server.ts";

export type { ConfigOptions } from "./config.ts";
export { ConfigError } from "./config.ts";
export type { RunningServer } from "./server.ts";

export async function createServer(options: ConfigOptions = {}): Promise<RunningServer> {
  return startServer({ config: configFromOptions(options) });
}
