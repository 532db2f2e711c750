import { ConfigError } from "../config.ts";

/**
 * Whether this process exports traces, from OpenTelemetry's own variables: an OTLP endpoint
 * (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), and neither
 * OTEL_SDK_DISABLED=true nor OTEL_TRACES_EXPORTER=none. Read before anything else is loaded:
 * when it says no, no part of the SDK is ever imported.
 */
export function tracingRequested(env: NodeJS.ProcessEnv): boolean {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!endpoint || env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return false;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() || "otlp";
  if (exporter === "none") return false;
  if (exporter !== "otlp")
    throw new ConfigError("OTEL_TRACES_EXPORTER", `only otlp (or none) is supported, got ${JSON.stringify(exporter)}`);
  // The exporter speaks OTLP over HTTP; a gRPC endpoint (port 4317) would drop every span unseen.
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?.trim() || env.OTEL_EXPORTER_OTLP_PROTOCOL?.trim() || "").toLowerCase();
  if (protocol === "grpc") {
    const variable = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?.trim() ? "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL" : "OTEL_EXPORTER_OTLP_PROTOCOL";
    throw new ConfigError(
      variable,
      "traces are sent as OTLP over HTTP (http/json); point the endpoint at the collector's HTTP port (4318)",
    );
  }
  return true;
}
