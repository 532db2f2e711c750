import { describe, expect, it } from "vitest";
import { tracingRequested } from "../../src/tracing/settings.ts";
import { withoutLiterals } from "../../src/tracing/sql-text.ts";

const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" };

describe("tracingRequested", () => {
  it("is off with no endpoint, whatever else is set", () => {
    expect(tracingRequested({})).toBe(false);
    expect(tracingRequested({ OTEL_SERVICE_NAME: "onceql", OTEL_TRACES_EXPORTER: "otlp" })).toBe(false);
  });

  it("is on with either endpoint variable", () => {
    expect(tracingRequested(endpoint)).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://127.0.0.1:4318/v1/traces" })).toBe(true);
  });

  it("is off with OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none", () => {
    expect(tracingRequested({ ...endpoint, OTEL_SDK_DISABLED: "true" })).toBe(false);
    expect(tracingRequested({ ...endpoint, OTEL_SDK_DISABLED: "false" })).toBe(true);
    expect(tracingRequested({ ...endpoint, OTEL_TRACES_EXPORTER: "none" })).toBe(false);
  });

  it("refuses, naming the variable, what it would silently drop: another exporter, gRPC", () => {
    expect(() => tracingRequested({ ...endpoint, OTEL_TRACES_EXPORTER: "zipkin" })).toThrow(/^OTEL_TRACES_EXPORTER: /);
    expect(() => tracingRequested({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" })).toThrow(/^OTEL_EXPORTER_OTLP_PROTOCOL: /);
    expect(tracingRequested({ ...endpoint, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/json" })).toBe(true);
  });
});

describe("withoutLiterals", () => {
  it("replaces every quoted string, doubled quotes, E'' escapes and dollar quotes included; leaves placeholders", () => {
    const sql = `BEGIN; EXECUTE onceql_read('ws-1', 'it''s the key'); SELECT E'a\\'b', $$x$$, $t$y$t$, $1::uuid, 'x'::text WHERE a = $2; COMMIT;`;
    expect(withoutLiterals(sql)).toBe("BEGIN; EXECUTE onceql_read(?, ?); SELECT ?, ?, ?, $1::uuid, ?::text WHERE a = $2; COMMIT;");
  });
});
