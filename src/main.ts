// The server as a command: what `npm start` runs. esbuild builds it to dist/server.js (scripts/bundle.mjs),
// and spawnEntry("src/server.ts") runs that. It lives apart from server.ts, which is imported (by
// index.ts, the bench, the tests): once bundled, a module can no longer tell whether it is the
// entry point, so whatever imports server.ts must not find a command in it.
//
// Tracing, when asked for, starts before the server's modules are imported (hence the dynamic
// import of server.ts): OpenTelemetry's instrumentations patch pg and node:http as they load. When
// it is not, nothing of OpenTelemetry is imported at all.
import { type Config, ConfigError, loadConfig } from "./config.ts";
import { createLogger } from "./logger.ts";
import { tracingRequested } from "./tracing/settings.ts";

async function main(): Promise<void> {
  let config: Config;
  let traced: boolean;
  try {
    config = loadConfig();
    traced = tracingRequested(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`onceql cannot start: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  const tracing = traced ? (await import("./tracing/sdk.ts")).startTracing() : undefined;
  const logger = createLogger(config.logLevel, tracing?.logFields);
  const { startServer } = await import("./server.ts");
  const server = await startServer({ config, logger }).catch((error: unknown) => {
    console.error(`onceql cannot start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
  if (config.graphiql) console.log(`\nonceql: GraphQL and GraphiQL at ${server.url}/graphql (${server.db.kind})`);
  else console.log(`\nonceql: GraphQL at ${server.url}/graphql (${server.db.kind}; GraphiQL off)`);
  if (server.issuerSimulator) console.log(`card issuer: a simulator at ${server.issuerUrl} (set ONCEQL_ISSUER_URL to use another)`);
  if (server.devToken) console.log(`dev workspace token (Authorization: Bearer ...):\n${server.devToken}`);
  let stopping = false;
  const stop = (signal: string) => {
    // A second Ctrl-C must not kill the process before the database is closed and its lock released.
    if (stopping) return logger.warn({ signal }, "already shutting down: closing the database");
    stopping = true;
    logger.info({ signal, timeoutMs: config.shutdownTimeoutMs }, "shutting down");
    server
      .close()
      .then(() => tracing?.shutdown())
      .then(
        () => {
          logger.info("shut down: exiting");
          process.exit(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, "shutdown failed");
          process.exit(1);
        },
      );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

await main();
