import type { MutationEvent } from "@onceql/pothos-plugin-idempotency";
import type { GraphQLFieldResolver } from "graphql";
import type { Plugin } from "graphql-yoga";

/**
 * Where the schema and the app meet tracing, without importing it: the schema is built
 * when its module is loaded, so what it wraps has to be known by then. `src/tracing/sdk.ts` installs
 * these before the server's modules load; unset (no OTEL endpoint, and in the tests' own
 * processes), nothing is wrapped and nothing of OpenTelemetry is loaded.
 */
export interface TracingHooks {
  /** The resolver inside a span of its own, active while it runs (so its SQL and HTTP calls nest under it). */
  wrapField(resolver: GraphQLFieldResolver<unknown, object>): GraphQLFieldResolver<unknown, object>;
  /** Told from inside the mutation field's resolver, whose span is then the active one. */
  onMutation(event: MutationEvent): void;
  /** Spans for the operation: parse, validate, execute. */
  yogaPlugins: Plugin[];
}

let installed: TracingHooks | undefined;

export function installTracingHooks(hooks: TracingHooks): void {
  installed = hooks;
}

export function tracingHooks(): TracingHooks | undefined {
  return installed;
}
