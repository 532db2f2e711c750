import { idempotencyExchange, type RetryInfo } from "@onceql/client/urql";
import { Client, cacheExchange, fetchExchange } from "@urql/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CREATE_KEY, type CreateKeyData, type IdempotencyExtensions, type LinkServer, startLinkServer, WORKSPACE } from "./server.ts";

let server: LinkServer;
beforeAll(async () => {
  server = await startLinkServer();
});
afterAll(() => server?.close());

function urql() {
  const retries: RetryInfo[] = [];
  const client = new Client({
    url: server.endpoint,
    fetchOptions: { headers: server.headers },
    exchanges: [idempotencyExchange({ baseDelayMs: 10, onRetry: (info) => retries.push(info) }), cacheExchange, fetchExchange],
  });
  return { client, retries };
}

const createKey = (client: Client, input: Record<string, unknown>) => client.mutation<CreateKeyData>(CREATE_KEY, { input }).toPromise();

describe("urql with idempotencyExchange", () => {
  it("a mutation whose response is lost after the commit is retried with its key: one row, the second answer REPLAYED", async () => {
    const { client, retries } = urql();
    server.proxy.script("lose-response");
    const result = await createKey(client, { name: "urql-lost" });
    expect(result.error).toBeUndefined();
    expect(retries).toHaveLength(1);
    const [key] = retries[0]!.clientMutationIds!;
    expect(key).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.data?.createKey).toMatchObject({ __typename: "CreateKeyPayload", clientMutationId: key });
    expect((result.extensions as IdempotencyExtensions).idempotency).toEqual([
      { field: "createKey", clientMutationId: key, status: "REPLAYED" },
    ]);
    expect(await server.keysNamed("urql-lost")).toBe(1);
  });

  it("IDEMPOTENCY_KEY_REUSED is not retried (a 503 before it is)", async () => {
    const { client, retries } = urql();
    expect((await createKey(client, { clientMutationId: "urql-reused", name: "urql-one" })).error).toBeUndefined();
    server.proxy.script({ status: 503 });
    const before = server.proxy.forwarded();
    const result = await createKey(client, { clientMutationId: "urql-reused", name: "urql-two" });
    expect(result.error?.graphQLErrors[0]?.extensions).toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED", outcome: "NOT_STORED" });
    expect(retries.map((retry) => retry.reason)).toEqual(["HTTP 503"]);
    expect(server.proxy.forwarded() - before).toBe(1);
    expect(await server.keysNamed("urql-two")).toBe(0);
  });

  it("a query passes untouched: not retried on a 503, answered when the server answers", async () => {
    const { client, retries } = urql();
    server.proxy.script({ status: 503 });
    const before = server.proxy.forwarded();
    const failed = await client.query(WORKSPACE, {}, { requestPolicy: "network-only" }).toPromise();
    expect(failed.error?.response?.status).toBe(503);
    const result = await client.query<{ workspace: { name: string } }>(WORKSPACE, {}, { requestPolicy: "network-only" }).toPromise();
    expect(result.data?.workspace.name).toBe("test");
    expect(retries).toEqual([]);
    expect(server.proxy.forwarded() - before).toBe(1);
  });

  it("keeps a key given by the caller, across the retry", async () => {
    const { client, retries } = urql();
    server.proxy.script("lose-response");
    const result = await createKey(client, { clientMutationId: "urql-own-key", name: "urql-own" });
    expect(retries.map((retry) => retry.clientMutationIds)).toEqual([["urql-own-key"]]);
    expect(result.data?.createKey).toMatchObject({ __typename: "CreateKeyPayload", clientMutationId: "urql-own-key" });
    expect((result.extensions as IdempotencyExtensions).idempotency?.[0]?.status).toBe("REPLAYED");
    expect(await server.keysNamed("urql-own")).toBe(1);
  });
});
