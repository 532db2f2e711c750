// OpenTelemetry's SDK: imported (dynamically, by src/main.ts) only when tracingRequested() says so,
// and before the server's own modules, which the instrumentations patch as they load.
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { trace } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { registerInstrumentations } from "@opentelemetry/instrumentation";
import { HttpInstrumentation } from "@opentelemetry/instrumentation-http";
import { PgInstrumentation } from "@opentelemetry/instrumentation-pg";
import { UndiciInstrumentation } from "@opentelemetry/instrumentation-undici";
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { ATTR_DB_QUERY_TEXT, ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";
import { createOpenTelemetryWrapper } from "@pothos/tracing-opentelemetry";
import { graphqlSpans } from "./graphql-spans.ts";
import { installTracingHooks } from "./hooks.ts";
import { withoutLiterals } from "./sql-text.ts";

export interface Tracing {
  /** trace_id and span_id of the active span, for each log line. */
  logFields(): Record<string, string>;
  /** Sends the spans still batched; then nothing more is recorded. */
  shutdown(): Promise<void>;
}

/** The key as a trace may show it: enough to find one key's attempts, never the key itself. */
export function keyHash(scope: string, clientMutationId: string): string {
  return createHash("sha256").update(`${scope}\0${clientMutationId}`).digest("hex").slice(0, 16);
}

/**
 * Starts exporting traces over OTLP/HTTP (the exporter reads OTEL_EXPORTER_OTLP_*, the batch
 * processor OTEL_BSP_*, the provider OTEL_TRACES_SAMPLER; the resource OTEL_SERVICE_NAME and
 * OTEL_RESOURCE_ATTRIBUTES) and installs the hooks the schema and the app look for.
 */
export function startTracing(): Tracing {
  const provider = new NodeTracerProvider({
    resource: defaultResource()
      .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: "onceql" }))
      .merge(detectResources({ detectors: [envDetector] })),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  // W3C traceparent in and out, and spans carried across awaits (AsyncLocalStorage).
  provider.register();
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        // Probes and scrapes every few seconds would bury the requests.
        ignoreIncomingRequestHook: (request) => /^\/(healthz|readyz|metrics)(\?|$)/.test(request.url ?? ""),
        // The server's own http client calls nothing; what has no request above it is noise.
        requireParentforOutgoingSpans: true,
      }),
      // fetch(): the calls to the card issuer, each carrying its traceparent.
      new UndiciInstrumentation({ requireParentforSpans: true }),
      new PgInstrumentation({
        // Statements are exported as their text, with $1, $2 placeholders, never their values: not
        // as parameters (off), nor quoted in a statement sent as text (replaced with ?).
        enhancedDatabaseReporting: false,
        requestHook: (span, { query, connection }) => {
          span.setAttribute(ATTR_DB_QUERY_TEXT, withoutLiterals(query.text));
          // Named by the first keyword, as the instrumentation does, but of a multi-statement text too
          // ("BEGIN;\nEXECUTE ..." would otherwise be the whole first word).
          span.updateName(
            `pg.query:${/^\s*([A-Za-z]+)/.exec(query.text)?.[1]?.toUpperCase() ?? "QUERY"} ${connection.database ?? ""}`.trim(),
          );
        },
        // The sweepers' statements, every few seconds, would each be a trace of their own.
        requireParentSpan: true,
      }),
    ],
  });
  // The bundle imports node:http and pg as ES modules, which the require hook does not see: loading
  // them once through require() here patches their classes, which every later import shares.
  const require = createRequire(import.meta.url);
  require("node:http");
  require("pg");

  const tracer = provider.getTracer("onceql");
  const wrap = createOpenTelemetryWrapper(tracer, {
    includeArgs: false,
    includeSource: false,
    onSpan: (span, _options, _parent, _args, _context, info) => span.updateName(`${info.parentType.name}.${info.fieldName}`),
  });
  installTracingHooks({
    wrapField: (resolver) => wrap(resolver, undefined),
    onMutation: (event) =>
      trace.getActiveSpan()?.setAttributes({
        "onceql.mutation": event.mutation,
        "onceql.idempotency.status": event.status,
        "onceql.idempotency.key_hash": keyHash(event.scope, event.clientMutationId),
      }),
    yogaPlugins: [graphqlSpans(tracer)],
  });
  return {
    logFields: (): Record<string, string> => {
      const context = trace.getActiveSpan()?.spanContext();
      return context ? { trace_id: context.traceId, span_id: context.spanId } : {};
    },
    shutdown: async () => {
      unregister();
      await provider.shutdown();
    },
  };
}
