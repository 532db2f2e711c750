import { setTimeout as sleep } from "node:timers/promises";
import { ApolloClient, ApolloLink, gql, HttpLink, InMemoryCache } from "@apollo/client/core";
import { createIdempotencyLink } from "@onceql/client/apollo";
import { idempotentFetch } from "@onceql/client/fetch";
import { idempotencyExchange, type RetryInfo } from "@onceql/client/urql";
import { Client, cacheExchange, fetchExchange } from "@urql/core";
import { Network, type RequestParameters } from "relay-runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDatabase, postgresAvailable } from "../helpers/databases.ts";
import { CREATE_KEY, type CreateKeyData, type IdempotencyExtensions, type LinkServer, startLinkServer } from "./server.ts";

/** One client library with onceql's retry-safe form in it, sending createKey with no key of the caller's. */
interface Caller {
  createKey(name: string): Promise<{ data: CreateKeyData | null | undefined; extensions: IdempotencyExtensions | undefined }>;
  retries: RetryInfo[];
}

// Backoff short enough that the refusal is met by a few retries, long enough not to spin; attempts
// enough (about 8 s of them) that a slow machine's late restore does not exhaust them.
const retryOptions = (retries: RetryInfo[]) => ({
  baseDelayMs: 20,
  maxDelayMs: 500,
  maxAttempts: 20,
  onRetry: (info: RetryInfo) => retries.push(info),
});

function apollo(server: LinkServer): Caller {
  const retries: RetryInfo[] = [];
  const client = new ApolloClient({
    cache: new InMemoryCache(),
    link: ApolloLink.from([createIdempotencyLink(retryOptions(retries)), new HttpLink({ uri: server.endpoint, headers: server.headers })]),
  });
  return {
    retries,
    async createKey(name) {
      const result = await client.mutate<CreateKeyData>({ mutation: gql(CREATE_KEY), variables: { input: { name } } });
      return { data: result.data, extensions: result.extensions as IdempotencyExtensions };
    },
  };
}

function urql(server: LinkServer): Caller {
  const retries: RetryInfo[] = [];
  const client = new Client({
    url: server.endpoint,
    fetchOptions: { headers: server.headers },
    exchanges: [idempotencyExchange(retryOptions(retries)), cacheExchange, fetchExchange],
  });
  return {
    retries,
    async createKey(name) {
      const result = await client.mutation<CreateKeyData>(CREATE_KEY, { input: { name } }).toPromise();
      if (result.error) throw result.error;
      return { data: result.data, extensions: result.extensions as IdempotencyExtensions };
    },
  };
}

/** relay-runtime's network layer with the fetch function of Relay's docs, over idempotentFetch. */
function relay(server: LinkServer): Caller {
  const retries: RetryInfo[] = [];
  const fetchWithKeys = idempotentFetch(retryOptions(retries));
  const network = Network.create(async (params, variables) => {
    const response = await fetchWithKeys(server.endpoint, {
      method: "POST",
      headers: { "content-type": "application/json", ...server.headers },
      body: JSON.stringify({ query: params.text, variables }),
    });
    return response.json();
  });
  const params: RequestParameters = {
    id: null,
    cacheID: "CreateKey",
    name: "CreateKey",
    operationKind: "mutation",
    text: CREATE_KEY,
    metadata: {},
  };
  return {
    retries,
    async createKey(name) {
      const answer = (await network.execute(params, { input: { name } }, {}).toPromise()) as {
        data?: CreateKeyData;
        extensions?: IdempotencyExtensions;
      };
      return { data: answer.data, extensions: answer.extensions };
    },
  };
}

async function until(done: () => boolean, what: string): Promise<void> {
  for (const started = Date.now(); !done(); await sleep(10)) {
    if (Date.now() - started > 30_000) throw new Error(`timed out waiting for ${what}`);
  }
}

describe.skipIf(!postgresAvailable())("the client forms on PostgreSQL, through lost responses and refused connections", () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let server: LinkServer;
  beforeAll(async () => {
    database = await createPostgresDatabase();
    server = await startLinkServer({ databaseUrl: database.url });
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  /**
   * The network stays down for a while and until the client has been refused `refusals` times, so
   * that a slow machine cannot let a retry slip past the outage and make the test vacuous.
   */
  async function outage(caller: Caller, retriesBefore: number, refusals: number) {
    await Promise.all([sleep(500), until(() => caller.retries.length >= retriesBefore + refusals, "retries into the refused port")]);
    expect(server.proxy.refusing()).toBe(true);
    await server.proxy.restore();
  }

  describe.each([
    ["Apollo Client 4 (createIdempotencyLink)", apollo],
    ["urql (idempotencyExchange)", urql],
    ["relay-runtime's Network (idempotentFetch)", relay],
  ])("%s", (library, make) => {
    const slug = library.split(" ")[0]!.toLowerCase();

    it("the response lost after the commit, then connections refused: one effect, the answer REPLAYED, with the key it generated", async () => {
      const caller = make(server);
      const name = `${slug}-lost-then-refused`;
      const before = server.proxy.forwarded();
      server.proxy.script("lose-response-then-refuse");
      const call = caller.createKey(name);
      // The lost response is the first retry; two more must have met the refused port.
      await outage(caller, 1, 2);
      const { data, extensions } = await call;

      const [key] = caller.retries[0]!.clientMutationIds!;
      expect(key).toMatch(/^[0-9a-f-]{36}$/);
      expect(caller.retries.every((retry) => retry.clientMutationIds?.length === 1 && retry.clientMutationIds[0] === key)).toBe(true);
      expect(server.proxy.lost()).toContainEqual([key]);
      expect(data?.createKey).toMatchObject({ __typename: "CreateKeyPayload", clientMutationId: key, key: { name } });
      expect(extensions?.idempotency).toEqual([{ field: "createKey", clientMutationId: key, status: "REPLAYED" }]);
      // What the server got: the first attempt and the one after the outage; the refused never arrived.
      expect(server.proxy.forwarded() - before).toBe(2);
      expect(await server.keysNamed(name)).toBe(1);
      expect(await server.storedRecord(key!)).toEqual({ mutation: "createKey", status: "COMPLETED" });
    });

    it("connections refused when the call starts: it runs once when the network is back, EXECUTED, with the key it generated", async () => {
      const caller = make(server);
      const name = `${slug}-refused`;
      const before = server.proxy.forwarded();
      await server.proxy.refuse();
      const call = caller.createKey(name);
      await outage(caller, 0, 2);
      const { data, extensions } = await call;

      const [key] = caller.retries[0]!.clientMutationIds!;
      expect(caller.retries.every((retry) => retry.clientMutationIds?.[0] === key)).toBe(true);
      expect(data?.createKey).toMatchObject({ __typename: "CreateKeyPayload", clientMutationId: key, key: { name } });
      expect(extensions?.idempotency).toEqual([{ field: "createKey", clientMutationId: key, status: "EXECUTED" }]);
      expect(server.proxy.forwarded() - before).toBe(1);
      expect(await server.keysNamed(name)).toBe(1);
      expect(await server.storedRecord(key!)).toEqual({ mutation: "createKey", status: "COMPLETED" });
    });
  });
});
