import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorkspace } from "../../src/auth/workspaces.ts";
import { openDatabase } from "../../src/db/database.ts";
import { createPostgresDatabase, postgresAvailable } from "../helpers/databases.ts";
import { startTestIssuer, type TestIssuer } from "../helpers/issuer.ts";
import { CREATE_IDENTITY } from "../helpers/operations.ts";
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver, treeOf } from "../helpers/otlp-receiver.ts";
import { type ServerProcess, startServerProcess } from "../helpers/processes.ts";

const CREATE_CARD = /* GraphQL */ `
  mutation CreateCard($input: CreateCardInput!) {
    createCard(input: $input) { __typename ... on CreateCardPayload { card { id } } }
  }
`;

const SERVER = 2;
const CLIENT = 3;

/**
 * A server process (dist/server.js) with the OTEL_* variables pointing at a collector of the test's
 * own: each request arrives with a traceparent the test chose, so its spans are found by trace id.
 */
describe.skipIf(!postgresAvailable())("traces over OTLP/HTTP", () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let receiver: OtlpReceiver;
  let issuer: TestIssuer;
  let server: ServerProcess;
  let token: string;
  let workspaceId: string;
  const key = `trace-key-${randomBytes(6).toString("hex")}`;
  const externalId = `trace-ext-${randomBytes(6).toString("hex")}`;
  let identityId: string;

  beforeAll(async () => {
    [database, receiver, issuer] = await Promise.all([createPostgresDatabase(), startOtlpReceiver(), startTestIssuer()]);
    const db = await openDatabase({ databaseUrl: database.url, poolSize: 1 });
    try {
      ({
        token,
        workspace: { id: workspaceId },
      } = await createWorkspace(db.prisma, "traced"));
    } finally {
      await db.close();
    }
    server = await startServerProcess({
      DATABASE_URL: database.url,
      ONCEQL_ENCRYPTION_KEY: randomBytes(32).toString("hex"),
      ONCEQL_ISSUER_URL: issuer.url,
      LOG_LEVEL: "info",
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/json",
      OTEL_SERVICE_NAME: "onceql-test",
      OTEL_BSP_SCHEDULE_DELAY: "100",
    });
  });
  afterAll(async () => {
    await server?.stop();
    await Promise.all([receiver?.close(), issuer?.close()]);
    await database?.drop();
  });

  /** Posts the operation as the child of a span of the test's, and waits for the server's spans of it. */
  async function traced(query: string, input: Record<string, unknown>) {
    const traceId = randomBytes(16).toString("hex");
    const callerSpanId = randomBytes(8).toString("hex");
    const response = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}`, traceparent: `00-${traceId}-${callerSpanId}-01` },
      body: JSON.stringify({ query, variables: { input } }),
    });
    const body = await response.json();
    // The server span ends last, once the response is written: the trace is complete when it is in.
    await expect.poll(() => receiver.trace(traceId).some((span) => span.kind === SERVER), { timeout: 10_000 }).toBe(true);
    const spans = receiver.trace(traceId);
    const field = (name: string) => one(spans, (span) => span.name === `Mutation.${name}`);
    return { body, spans, callerSpanId, field, tree: treeOf(spans) };
  }

  const keyHash = (clientMutationId: string) =>
    createHash("sha256").update(`${workspaceId}\0${clientMutationId}`).digest("hex").slice(0, 16);

  it("a first execution: the HTTP server span, parse, validate and execute, the mutation's span with EXECUTED and a key hash, its SQL under it", async () => {
    const first = await traced(CREATE_IDENTITY, { clientMutationId: key, externalId, meta: { note: externalId } });
    expect(first.body.data.createIdentity.__typename).toBe("CreateIdentityPayload");
    identityId = first.body.data.createIdentity.identity.id;
    const { spans, tree } = first;

    const request = one(spans, (span) => span.kind === SERVER);
    expect(request, tree).toMatchObject({
      scope: "@opentelemetry/instrumentation-http",
      parentSpanId: first.callerSpanId,
      service: "onceql-test",
    });
    for (const step of ["graphql.parse", "graphql.validate", "graphql.execute"]) {
      expect(one(spans, (span) => span.name === step).parentSpanId, tree).toBe(request.spanId);
    }
    const execute = one(spans, (span) => span.name === "graphql.execute");
    expect(execute.attributes).toMatchObject({ "graphql.operation.type": "mutation", "graphql.operation.name": "CreateIdentity" });

    const field = first.field("createIdentity");
    expect(field.parentSpanId, tree).toBe(execute.spanId);
    expect(field.attributes).toMatchObject({
      "onceql.mutation": "createIdentity",
      "onceql.idempotency.status": "EXECUTED",
      "onceql.idempotency.key_hash": keyHash(key),
    });
    // The outcome is on the field's span only, not the request's nor the operation's.
    expect(spans.filter((span) => "onceql.idempotency.status" in span.attributes)).toEqual([field]);

    // The attempt's transaction under the field, in order: the driver's BEGIN, the domain's INSERT, the COMMIT.
    const statements = descendants(spans, field).filter(
      (span) => span.scope === "@opentelemetry/instrumentation-pg" && span.kind === CLIENT,
    );
    const texts = statements.map((span) => String(span.attributes["db.query.text"] ?? ""));
    const sql = texts.join("\n");
    expect(sql, tree).toMatch(/\bBEGIN\b[\s\S]*INSERT INTO identities[\s\S]*\bCOMMIT\b/);
    // Statements only: no parameter values (enhancedDatabaseReporting stays off), no quoted ones.
    expect(statements.some((span) => "db.postgresql.values" in span.attributes)).toBe(false);

    // Nothing of the key or the input in clear, anywhere in what was exported.
    const exported = receiver.bodies.join("\n");
    expect(exported).not.toContain(key);
    expect(exported).not.toContain(externalId);

    // The mutation's log line carries the field span's ids.
    const line = server
      .output()
      .split("\n")
      .find((text) => text.includes(`"msg":"mutation"`) && text.includes(key));
    expect(JSON.parse(line!)).toMatchObject({ trace_id: field.traceId, span_id: field.spanId, status: "EXECUTED" });
  });

  it("a replay: REPLAYED with the same key hash and no INSERT; another input under the key: REUSED", async () => {
    const replay = await traced(CREATE_IDENTITY, { clientMutationId: key, externalId, meta: { note: externalId } });
    expect(replay.body.data.createIdentity.__typename).toBe("CreateIdentityPayload");
    expect(replay.field("createIdentity").attributes).toMatchObject({
      "onceql.idempotency.status": "REPLAYED",
      "onceql.idempotency.key_hash": keyHash(key),
    });
    const texts = replay.spans.map((span) => String(span.attributes["db.query.text"] ?? ""));
    expect(
      texts.some((text) => /\bINSERT\b/i.test(text)),
      replay.tree,
    ).toBe(false);

    const reuse = await traced(CREATE_IDENTITY, { clientMutationId: key, externalId: `${externalId}-other` });
    expect(reuse.field("createIdentity").attributes).toMatchObject({ "onceql.idempotency.status": "REUSED" });
    expect(receiver.bodies.join("\n")).not.toContain(key);
  });

  it("an issuer call: the fetch's client span under createCard, its traceparent received by the issuer", async () => {
    const before = issuer.state.traceparents.length;
    const card = await traced(CREATE_CARD, { clientMutationId: `${key}-card`, identityId });
    expect(card.body.data.createCard.__typename).toBe("CreateCardPayload");
    const field = card.field("createCard");
    expect(field.attributes).toMatchObject({ "onceql.idempotency.status": "EXECUTED" });
    const call = one(
      descendants(card.spans, field),
      (span) => span.scope === "@opentelemetry/instrumentation-undici" && span.kind === CLIENT && span.name === "POST",
    );
    expect(call.attributes["url.full"]).toMatch(/\/users\/[^/]+\/cards$/);
    const received = issuer.state.traceparents.slice(before);
    expect(received).toContain(`00-${field.traceId}-${call.spanId}-01`);
  });
});

function one(spans: ReceivedSpan[], test: (span: ReceivedSpan) => boolean): ReceivedSpan {
  const found = spans.filter(test);
  if (found.length !== 1) throw new Error(`expected one such span, found ${found.length} in:\n${treeOf(spans)}`);
  return found[0]!;
}

/** The spans under `of`, depth first, each span's children in the order they started. */
function descendants(spans: ReceivedSpan[], of: ReceivedSpan): ReceivedSpan[] {
  const children = spans.filter((span) => span.parentSpanId === of.spanId).sort((a, b) => Number(a.start - b.start));
  return children.flatMap((child) => [child, ...descendants(spans, child)]);
}
