/**
 * onceql as a library: `createServer` starts the same server `npm start` does, configured with
 * options rather than environment variables; `createClient` is the typed SDK with safe retries.
 */
import { type ConfigOptions, configFromOptions } from "./config.ts";
import type { IdempotencyFaults } from "./idempotency/executor.ts";
import { type RunningServer, startServer } from "./server.ts";

export type { ConfigOptions } from "./config.ts";
export { ConfigError } from "./config.ts";
export * from "./sdk/client.ts";
export type { RunningServer } from "./server.ts";

export interface CreateServerOptions extends ConfigOptions {
  /** Test hooks: simulate a crash or a slow commit inside the idempotency wrapper. */
  faults?: IdempotencyFaults;
}

export async function createServer(options: CreateServerOptions = {}): Promise<RunningServer> {
  const { faults, ...config } = options;
  return startServer({ config: configFromOptions(config), faults });
}
