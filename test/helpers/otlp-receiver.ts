import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** A span as OTLP/JSON carries it, its attributes flattened to their values. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  /** 1 internal, 2 server, 3 client. */
  kind: number;
  scope: string;
  service: string | undefined;
  attributes: Record<string, unknown>;
  start: bigint;
}

export interface OtlpReceiver {
  /** What OTEL_EXPORTER_OTLP_ENDPOINT names (the exporter adds /v1/traces). */
  url: string;
  spans: ReceivedSpan[];
  /** Every body as it arrived: where a secret exported by mistake would be. */
  bodies: string[];
  trace(traceId: string): ReceivedSpan[];
  close(): Promise<void>;
}

interface AnyValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
}
type KeyValue = { key: string; value: AnyValue };

/** An OTLP/HTTP collector in this process: POST /v1/traces with JSON bodies (http/json), kept in memory. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/v1/traces" || !/json/.test(req.headers["content-type"] ?? "")) {
        res.writeHead(415).end();
        return;
      }
      const body = Buffer.concat(chunks).toString("utf8");
      bodies.push(body);
      spans.push(...spansOf(JSON.parse(body)));
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    bodies,
    trace: (traceId) => spans.filter((span) => span.traceId === traceId),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function spansOf(request: {
  resourceSpans?: { resource?: { attributes?: KeyValue[] }; scopeSpans?: { scope?: { name?: string }; spans?: RawSpan[] }[] }[];
}): ReceivedSpan[] {
  return (request.resourceSpans ?? []).flatMap((resourceSpans) => {
    const service = attributesOf(resourceSpans.resource?.attributes)["service.name"] as string | undefined;
    return (resourceSpans.scopeSpans ?? []).flatMap((scopeSpans) =>
      (scopeSpans.spans ?? []).map((span) => ({
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId || undefined,
        name: span.name,
        kind: span.kind,
        scope: scopeSpans.scope?.name ?? "",
        service,
        attributes: attributesOf(span.attributes),
        start: BigInt(span.startTimeUnixNano),
      })),
    );
  });
}

interface RawSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string | number;
  attributes?: KeyValue[];
}

function attributesOf(list: KeyValue[] = []): Record<string, unknown> {
  return Object.fromEntries(list.map(({ key, value }) => [key, plainValue(value)]));
}

function plainValue(value: AnyValue): unknown {
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(plainValue);
  if (value.intValue !== undefined) return Number(value.intValue);
  return value.stringValue ?? value.boolValue ?? value.doubleValue;
}

/** The trace as an indented tree, one span a line (name, and what onceql adds): for messages and the README. */
export function treeOf(spans: ReceivedSpan[]): string {
  const ids = new Set(spans.map((span) => span.spanId));
  const lines: string[] = [];
  const visit = (span: ReceivedSpan, depth: number) => {
    const own = Object.entries(span.attributes).filter(([key]) => key.startsWith("onceql.") || key === "db.query.text");
    const details = own.map(([key, value]) => `${key}=${String(value).replace(/\s+/g, " ").trim().slice(0, 60)}`).join(" ");
    lines.push(`${"  ".repeat(depth)}${span.name}${details ? `  ${details}` : ""}`);
    for (const child of spans.filter((other) => other.parentSpanId === span.spanId).sort((a, b) => Number(a.start - b.start))) {
      visit(child, depth + 1);
    }
  };
  for (const root of spans.filter((span) => !span.parentSpanId || !ids.has(span.parentSpanId))) visit(root, 0);
  return lines.join("\n");
}
