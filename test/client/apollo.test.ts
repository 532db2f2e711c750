import { ApolloClient, ApolloLink, CombinedGraphQLErrors, gql, HttpLink, InMemoryCache, ServerError } from "@apollo/client";
import { createIdempotencyLink, type RetryInfo } from "@onceql/client/apollo";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CREATE_KEY, type CreateKeyData, type IdempotencyExtensions, type LinkServer, startLinkServer, WORKSPACE } from "./server.ts";

let server: LinkServer;
beforeAll(async () => {
  server = await startLinkServer();
});
afterAll(() => server?.close());

function apollo() {
  const retries: RetryInfo[] = [];
  const client = new ApolloClient({
    cache: new InMemoryCache(),
    link: ApolloLink.from([
      createIdempotencyLink({ baseDelayMs: 10, onRetry: (info) => retries.push(info) }),
      new HttpLink({ uri: server.endpoint, headers: server.headers }),
    ]),
  });
  return { client, retries };
}

const createKey = (client: ApolloClient, input: Record<string, unknown>) =>
  client.mutate<CreateKeyData>({ mutation: gql(CREATE_KEY), variables: { input } });

describe("Apollo Client 4 with createIdempotencyLink", () => {
  it("a mutation whose response is lost after the commit is retried with its key: one row, the second answer REPLAYED", async () => {
    const { client, retries } = apollo();
    server.proxy.script("lose-response");
    const result = await createKey(client, { name: "apollo-lost" });
    expect(retries).toHaveLength(1);
    const [key] = retries[0]!.clientMutationIds!;
    expect(key).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.data?.createKey).toMatchObject({ __typename: "CreateKeyPayload", clientMutationId: key });
    expect((result.extensions as IdempotencyExtensions).idempotency).toEqual([
      { field: "createKey", clientMutationId: key, status: "REPLAYED" },
    ]);
    expect(await server.keysNamed("apollo-lost")).toBe(1);
  });

  it("IDEMPOTENCY_KEY_REUSED is not retried (a 503 before it is)", async () => {
    const { client, retries } = apollo();
    await createKey(client, { clientMutationId: "apollo-reused", name: "apollo-one" });
    server.proxy.script({ status: 503 });
    const before = server.proxy.forwarded();
    const error = await createKey(client, { clientMutationId: "apollo-reused", name: "apollo-two" }).catch((e: unknown) => e);
    expect(CombinedGraphQLErrors.is(error), String(error)).toBe(true);
    expect((error as CombinedGraphQLErrors).errors[0]?.extensions).toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED", outcome: "NOT_STORED" });
    expect(retries.map((retry) => retry.reason)).toEqual(["HTTP 503"]);
    expect(server.proxy.forwarded() - before).toBe(1);
    expect(await server.keysNamed("apollo-two")).toBe(0);
  });

  it("a query passes untouched: not retried on a 503, answered when the server answers", async () => {
    const { client, retries } = apollo();
    server.proxy.script({ status: 503 });
    const before = server.proxy.forwarded();
    const error = await client.query({ query: gql(WORKSPACE), fetchPolicy: "network-only" }).catch((e: unknown) => e);
    expect(ServerError.is(error) && error.statusCode).toBe(503);
    const result = await client.query<{ workspace: { name: string } }>({ query: gql(WORKSPACE), fetchPolicy: "network-only" });
    expect(result.data?.workspace.name).toBe("test");
    expect(retries).toEqual([]);
    expect(server.proxy.forwarded() - before).toBe(1);
  });

  it("keeps a key given by the caller, across the retry", async () => {
    const { client, retries } = apollo();
    server.proxy.script("lose-response");
    const result = await createKey(client, { clientMutationId: "apollo-own-key", name: "apollo-own" });
    expect(retries.map((retry) => retry.clientMutationIds)).toEqual([["apollo-own-key"]]);
    expect(result.data?.createKey).toMatchObject({ __typename: "CreateKeyPayload", clientMutationId: "apollo-own-key" });
    expect((result.extensions as IdempotencyExtensions).idempotency?.[0]?.status).toBe("REPLAYED");
    expect(await server.keysNamed("apollo-own")).toBe(1);
  });
});
