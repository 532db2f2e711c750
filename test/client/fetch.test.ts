import { idempotentFetch, type RetryInfo } from "@onceql/client/fetch";
import { ClientError, GraphQLClient } from "graphql-request";
import { Network, type RequestParameters } from "relay-runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CREATE_KEY, type CreateKeyData, type IdempotencyExtensions, type LinkServer, startLinkServer, WORKSPACE } from "./server.ts";

let server: LinkServer;
beforeAll(async () => {
  server = await startLinkServer();
});
afterAll(() => server?.close());

interface Answer {
  data?: unknown;
  errors?: { extensions?: Record<string, unknown> }[];
  extensions?: IdempotencyExtensions;
  /** The Idempotent-Replayed header, as the fetch's caller sees it. */
  replayedHeader?: string | null;
}

/** Each client library in front of idempotentFetch, sending one operation and telling what came back. */
interface Sender {
  send(text: string, name: string, variables: Record<string, unknown>): Promise<Answer>;
  retries: RetryInfo[];
}

/**
 * Relay's network layer, with the fetch function Relay's docs write (no compiler here: the request
 * parameters a compiled mutation would carry are written out).
 */
function relay(): Sender {
  const retries: RetryInfo[] = [];
  const fetchWithKeys = idempotentFetch({ baseDelayMs: 10, onRetry: (info) => retries.push(info) });
  let replayedHeader: string | null = null;
  const network = Network.create(async (params, variables) => {
    const response = await fetchWithKeys(server.endpoint, {
      method: "POST",
      headers: { "content-type": "application/json", ...server.headers },
      body: JSON.stringify({ query: params.text, variables }),
    });
    replayedHeader = response.headers.get("idempotent-replayed");
    return response.json();
  });
  return {
    retries,
    async send(text, name, variables) {
      const operationKind = text.trimStart().startsWith("mutation") ? "mutation" : "query";
      const params: RequestParameters = { id: null, cacheID: name, name, operationKind, text, metadata: {} };
      const answer = (await network.execute(params, variables, {}).toPromise()) as Answer;
      return { ...answer, replayedHeader };
    },
  };
}

function graphqlRequest(): Sender {
  const retries: RetryInfo[] = [];
  const client = new GraphQLClient(server.endpoint, {
    headers: server.headers,
    fetch: idempotentFetch({ baseDelayMs: 10, onRetry: (info) => retries.push(info) }),
  });
  return {
    retries,
    async send(text, _name, variables) {
      try {
        const { data, extensions, headers } = await client.rawRequest(text, variables);
        return { data, extensions: extensions as IdempotencyExtensions, replayedHeader: headers.get("idempotent-replayed") };
      } catch (error) {
        if (!(error instanceof ClientError) || !error.response.errors) throw error;
        return { data: error.response.data, errors: error.response.errors as Answer["errors"], replayedHeader: null };
      }
    },
  };
}

describe.each([
  ["relay-runtime's Network", relay],
  ["graphql-request", graphqlRequest],
])("idempotentFetch with %s", (library, make) => {
  const slug = library.startsWith("relay") ? "relay" : "graphql-request";
  const createKey = (sender: Sender, input: Record<string, unknown>) => sender.send(CREATE_KEY, "CreateKey", { input });

  it("a mutation whose response is lost after the commit is retried with its key: one row, the second answer REPLAYED", async () => {
    const sender = make();
    server.proxy.script("lose-response");
    const answer = await createKey(sender, { name: `${slug}-lost` });
    expect(sender.retries).toHaveLength(1);
    const [key] = sender.retries[0]!.clientMutationIds!;
    expect(key).toMatch(/^[0-9a-f-]{36}$/);
    expect((answer.data as CreateKeyData).createKey).toMatchObject({ __typename: "CreateKeyPayload", clientMutationId: key });
    expect(answer.extensions?.idempotency).toEqual([{ field: "createKey", clientMutationId: key, status: "REPLAYED" }]);
    expect(answer.replayedHeader).toBe("true");
    expect(await server.keysNamed(`${slug}-lost`)).toBe(1);
  });

  it("IDEMPOTENCY_KEY_REUSED is not retried (a 503 before it is)", async () => {
    const sender = make();
    await createKey(sender, { clientMutationId: `${slug}-reused`, name: `${slug}-one` });
    server.proxy.script({ status: 503 });
    const before = server.proxy.forwarded();
    const answer = await createKey(sender, { clientMutationId: `${slug}-reused`, name: `${slug}-two` });
    expect(answer.errors?.[0]?.extensions).toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED", outcome: "NOT_STORED" });
    expect(sender.retries.map((retry) => retry.reason)).toEqual(["HTTP 503"]);
    expect(server.proxy.forwarded() - before).toBe(1);
    expect(await server.keysNamed(`${slug}-two`)).toBe(0);
  });

  it("a query passes untouched: not retried on a 503, answered when the server answers", async () => {
    const sender = make();
    server.proxy.script({ status: 503 });
    const before = server.proxy.forwarded();
    await expect(sender.send(WORKSPACE, "Workspace", {})).rejects.toThrow();
    const answer = await sender.send(WORKSPACE, "Workspace", {});
    expect((answer.data as { workspace: { name: string } }).workspace.name).toBe("test");
    expect(sender.retries).toEqual([]);
    expect(server.proxy.forwarded() - before).toBe(1);
  });

  it("keeps a key given by the caller, across the retry", async () => {
    const sender = make();
    server.proxy.script("lose-response");
    const answer = await createKey(sender, { clientMutationId: `${slug}-own-key`, name: `${slug}-own` });
    expect(sender.retries.map((retry) => retry.clientMutationIds)).toEqual([[`${slug}-own-key`]]);
    expect((answer.data as CreateKeyData).createKey).toMatchObject({ __typename: "CreateKeyPayload", clientMutationId: `${slug}-own-key` });
    expect(answer.extensions?.idempotency?.[0]?.status).toBe("REPLAYED");
    expect(await server.keysNamed(`${slug}-own`)).toBe(1);
  });
});
