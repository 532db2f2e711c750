import { useCSRFPrevention } from "@graphql-yoga/plugin-csrf-prevention";
import {
  databaseBusy,
  type ErrorOutcome,
  type IdempotencyFaults,
  isDatabaseBusy,
  isDatabaseUnavailable,
  type MutationRunner,
  type SweepResult,
  withOutcome,
} from "@onceql/pothos-plugin-idempotency";
import { prometheusMetrics } from "@onceql/pothos-plugin-idempotency/prometheus";
import { useIdempotency } from "@onceql/pothos-plugin-idempotency/yoga";
import { GraphQLError } from "graphql";
import { createYoga, maskError, type YogaServerInstance } from "graphql-yoga";
import type { Logger } from "pino";
import { Registry } from "prom-client";
import { Authenticator } from "./auth/authenticate.ts";
import type { Config } from "./config.ts";
import { type Context, createContext, type Services } from "./context.ts";
import type { Database } from "./db/database.ts";
import { createCardDependencies } from "./domains/cards/card.dependencies.ts";
import { limitRequestBodySize } from "./http/body-limit.ts";
import { corsOption, varyOnOrigin } from "./http/cors.ts";
import { databaseUnavailable } from "./http/database-unavailable.ts";
import { exactNumbers } from "./http/exact-numbers.ts";
import { graphiqlOptions } from "./http/graphiql.ts";
import { noIntrospection } from "./http/introspection.ts";
import { metricsPlugin, readinessPlugin } from "./http/probes.ts";
import { queryLimitPlugins } from "./http/query-limits.ts";
import { WorkspaceRateLimiter } from "./http/rate-limiter.ts";
import { idempotencyOf } from "./idempotency/runner.ts";
import { schema } from "./schema/index.ts";
import { tracingHooks } from "./tracing/hooks.ts";

export interface AppOptions {
  config: Config;
  db: Database;
  logger: Logger;
  /** 32 bytes that seal stored outcomes holding secrets; or several, the current first (rotation). */
  encryptionKey: Buffer | readonly Buffer[];
  /**
   * The embedded database's dev workspace, filled into GraphiQL's headers for a person on this
   * machine only (see graphiqlOptions); unset when the server listens beyond loopback.
   */
  graphiqlToken?: string;
  /**
   * Tests only: failures simulated inside the idempotency wrapper. Like `mutationRunner`, it is an
   * option of this function alone: `createServer` and `npm start` cannot set it.
   */
  faults?: IdempotencyFaults;
  /** The benchmark's baseline only: runs each mutation's resolver without the wrapper. */
  mutationRunner?: MutationRunner;
}

export interface App {
  yoga: YogaServerInstance<Record<string, unknown>, Context>;
  services: Services;
  /** Deletes expired idempotency records (after storing the counts still in memory). */
  sweep(): Promise<SweepResult>;
  /** From now on `/readyz` answers 503 `shutting down`: the server is about to stop. */
  drain(): void;
  /** Stores what is still only counted in memory; the database stays open. */
  close(): Promise<void>;
}

/** Far above any real operation, far below yoga's own 25 MB default. */
const MAX_BODY_BYTES = 1024 * 1024;

/** The GraphQL server, without listening: tests call `yoga.fetch`, the server hands it to node:http. */
export function createApp(options: AppOptions): App {
  const { config, db, logger } = options;
  const metrics = new Registry();
  const executor = idempotencyOf(db, config, {
    encryptionKey: options.encryptionKey,
    logger,
    metrics: prometheusMetrics(metrics),
    faults: options.faults,
  });
  const idempotency = options.mutationRunner ?? executor;
  const services: Services = {
    config,
    auth: new Authenticator(db.prisma, { failuresPerMinute: config.authFailureLimit }),
    rateLimiter: new WorkspaceRateLimiter(config.rateLimit),
    db,
    idempotency,
    logger,
    metrics,
    cards: createCardDependencies(config, logger, metrics),
  };

  let draining = false;
  const yoga = createYoga<Record<string, unknown>, Context>({
    schema,
    context: (initial) => createContext(services, initial),
    graphqlEndpoint: "/graphql",
    healthCheckEndpoint: "/healthz",
    landingPage: false,
    cors: corsOption(config.corsOrigins),
    maskedErrors: {
      isDev: false,
      // An outage or a busy database is worth telling apart from a bug: the client should retry,
      // with the same key. Whatever the error becomes, it keeps the path and what it says of the key.
      maskError: (error, message) => {
        const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
        const known = isDatabaseUnavailable(original) ? databaseUnavailable() : isDatabaseBusy(original) ? databaseBusy() : undefined;
        const masked = known && error instanceof GraphQLError ? located(known, error) : (known ?? maskError(error, message, false));
        const outcome = error instanceof GraphQLError ? (error.extensions.outcome as ErrorOutcome | undefined) : undefined;
        return outcome && masked instanceof GraphQLError ? withOutcome(masked, outcome) : masked;
      },
    },
    batching: { limit: 10 },
    // Ours instead (limitRequestBodySize below): the same answers, without wrapping every body in a stream.
    maxRequestBodySize: false,
    logging: {
      debug: (...args) => logger.debug(args.join(" ")),
      info: (...args) => logger.info(args.join(" ")),
      warn: (...args) => logger.warn(args.join(" ")),
      error: (...args) =>
        logger.error({ err: args.find((arg) => arg instanceof Error) }, args.filter((arg) => !(arg instanceof Error)).join(" ")),
    },
    // GraphiQL bundled with the server: the default page loads its code from a CDN.
    // Loaded when a browser first asks for it: a server that is never opened in a browser starts faster.
    renderGraphiQL: async (page) => (await import("@graphql-yoga/render-graphiql")).renderGraphiQL(page),
    graphiql: config.graphiql ? graphiqlOptions(options.graphiqlToken) : false,
    plugins: [
      ...(tracingHooks()?.yogaPlugins ?? []),
      varyOnOrigin(config.corsOrigins),
      readinessPlugin(services, () => draining),
      metricsPlugin(services),
      // Browsers preflight any request with Authorization: it counts as the custom header.
      useCSRFPrevention({ requestHeaders: ["x-graphql-yoga-csrf", "authorization"] }),
      ...queryLimitPlugins(),
      ...(config.introspection ? [] : [noIntrospection()]),
      useIdempotency(),
      // Before the body limit, which wraps its parser: a chunked body is still counted as it is read.
      exactNumbers(),
      // A chunked body with no Content-Length is counted as it streams in, and refused (413) at
      // the limit too, before it is parsed. After the plugins above: it wraps whichever parser they chose.
      limitRequestBodySize(MAX_BODY_BYTES),
    ],
  });
  return {
    yoga,
    services,
    sweep: () => executor.sweep(),
    drain: () => {
      draining = true;
    },
    close: async () => {
      await idempotency.close();
      if (executor !== idempotency) await executor.close();
    },
  };
}

/** `replacement` where `error` happened: its path and locations, so a client can tell which field failed. */
function located(replacement: GraphQLError, error: GraphQLError): GraphQLError {
  return new GraphQLError(replacement.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    extensions: replacement.extensions,
  });
}
