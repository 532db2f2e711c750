import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createClient, OnceqlError } from "@onceql/client";
import { createServer, type RunningServer } from "onceql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFlakyProxy } from "../helpers/flaky-proxy.ts";

const dataDir = mkdtempSync(path.join(tmpdir(), "onceql-sdk-"));
let server: RunningServer;
let proxy: Awaited<ReturnType<typeof startFlakyProxy>>;

beforeAll(async () => {
  server = await createServer({
    port: 0,
    dataDir,
    logLevel: "silent",
  });
  proxy = await startFlakyProxy(server.url);
});
afterAll(async () => {
  await proxy?.close();
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const client = (options: { maxAttempts?: number } = {}) =>
  createClient({ url: `${proxy.url}/graphql`, token: server.devToken!, baseDelayMs: 10, ...options });
const keysNamed = (name: string) => server.db.prisma.apiKey.count({ where: { name } });

describe("the typed client", () => {
  it("fills in a fresh clientMutationId and returns the typed result", async () => {
    const result = await client().CreateKey({ input: { name: "sdk-1", externalId: "sdk-user" } });
    expect(result.clientMutationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.replayed).toBe(false);
    expect(result.attempts).toBe(1);
    const payload = result.data.createKey;
    if (payload?.__typename !== "CreateKeyPayload") throw new Error(`unexpected ${payload?.__typename}`);
    expect(payload.clientMutationId).toBe(result.clientMutationId);
    expect(payload.key.identity?.externalId).toBe("sdk-user");
    const again = await client().CreateKey({ input: { name: "sdk-1", externalId: "sdk-user" } });
    expect(again.clientMutationId).not.toBe(result.clientMutationId);
  });

  it("says when a result was replayed", async () => {
    const input = { clientMutationId: "sdk-explicit", name: "sdk-2" };
    expect((await client().CreateKey({ input })).replayed).toBe(false);
    const replay = await client().CreateKey({ input });
    expect(replay.replayed).toBe(true);
    expect(replay.idempotency).toEqual([{ field: "createKey", clientMutationId: "sdk-explicit", status: "REPLAYED" }]);
  });

  it("a connection cut after the server committed: the retry gets the replay, and there is one effect", async () => {
    proxy.script("lose-response");
    const result = await client().CreateKey({ input: { name: "lost-response" } });
    expect(result.attempts).toBe(2);
    expect(result.replayed).toBe(true);
    expect(result.data.createKey?.__typename).toBe("CreateKeyPayload");
    expect(await keysNamed("lost-response")).toBe(1);
  });

  it("retries 503 and 429 with the same key", async () => {
    proxy.script({ status: 503 }, { status: 429, headers: { "retry-after": "0" } });
    const result = await client().CreateKey({ input: { name: "flaky-gateway" } });
    expect(result.attempts).toBe(3);
    expect(result.replayed).toBe(false);
    expect(await keysNamed("flaky-gateway")).toBe(1);
  });

  it("never retries a reused key", async () => {
    await client().CreateKey({ input: { clientMutationId: "sdk-reused", name: "one" } });
    const before = proxy.forwarded();
    const error = await client()
      .CreateKey({ input: { clientMutationId: "sdk-reused", name: "two" } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OnceqlError);
    expect(error).toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED", attempts: 1, clientMutationId: "sdk-reused" });
    expect(proxy.forwarded() - before).toBe(1);
  });

  it("never retries a UserError: it is the typed answer", async () => {
    await client().CreateIdentity({ input: { externalId: "sdk-taken" } });
    const result = await client().CreateIdentity({ input: { externalId: "sdk-taken" } });
    expect(result.attempts).toBe(1);
    const answer = result.data.createIdentity;
    if (answer?.__typename !== "IdentityAlreadyExistsError") throw new Error(`unexpected ${answer?.__typename}`);
    expect(answer.code).toBe("IDENTITY_EXISTS");
  });

  it("gives up after maxAttempts", async () => {
    proxy.script({ status: 503 }, { status: 503 }, { status: 503 });
    const error = await client({ maxAttempts: 3 })
      .CreateKey({ input: { name: "never" } })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "OnceqlError", status: 503, attempts: 3 });
    expect(await keysNamed("never")).toBe(0);
  });

  it("runs queries too", async () => {
    const result = await client().Workspace();
    expect(result.data.workspace.name).toBe("dev");
  });
});
