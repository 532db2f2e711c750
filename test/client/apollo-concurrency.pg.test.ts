import { ApolloClient, ApolloLink, gql, HttpLink, InMemoryCache } from "@apollo/client/core";
import { createIdempotencyLink, type RetryInfo } from "@onceql/client/apollo";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDatabase, postgresAvailable } from "../helpers/databases.ts";
import { CREATE_KEY, type CreateKeyData, type IdempotencyExtensions, type LinkServer, startLinkServer } from "./server.ts";

const CALLS = 50;
// Fixed so that a failure can be looked at again; which call draws which loss still depends on the
// order the requests reach the proxy, so every run checks its own losses against its own answers.
const SEED = 28;
const LOST_SHARE = 0.3;

describe.skipIf(!postgresAvailable())("50 mutations at once through one Apollo client, responses lost at random (PostgreSQL)", () => {
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

  it(`every call resolves with its data, the database holds exactly ${CALLS} effects, and the replayed answers are exactly the lost ones`, async () => {
    const retries: RetryInfo[] = [];
    const client = new ApolloClient({
      cache: new InMemoryCache(),
      link: ApolloLink.from([
        createIdempotencyLink({ baseDelayMs: 20, maxDelayMs: 500, onRetry: (info) => retries.push(info) }),
        new HttpLink({ uri: server.endpoint, headers: server.headers }),
      ]),
    });
    server.proxy.loseAtRandom({ seed: SEED, share: LOST_SHARE });
    const names = Array.from({ length: CALLS }, (_, i) => `concurrent-${i}`);
    const results = await Promise.all(
      names.map((name) => client.mutate<CreateKeyData>({ mutation: gql(CREATE_KEY), variables: { input: { name } } })),
    );

    const keys = results.map((result, i) => {
      expect(result.data?.createKey).toMatchObject({ __typename: "CreateKeyPayload", key: { name: names[i] } });
      return result.data!.createKey!.clientMutationId!;
    });
    expect(new Set(keys).size).toBe(CALLS);

    // A run that lost nothing would prove nothing.
    const lost = new Set(server.proxy.lost().flat());
    expect(lost.size).toBeGreaterThan(0);
    expect(retries.length).toBeGreaterThanOrEqual(lost.size);
    for (const key of lost) expect(keys).toContain(key);
    // A call whose first answer was lost gets the replay of that execution; any other, its only execution.
    const replayed = results.flatMap((result, i) => {
      const [entry] = (result.extensions as IdempotencyExtensions).idempotency ?? [];
      expect(entry).toMatchObject({ field: "createKey", clientMutationId: keys[i] });
      return entry?.status === "REPLAYED" ? [keys[i]] : [];
    });
    expect(new Set(replayed)).toEqual(lost);

    expect(await server.app.db.prisma.apiKey.count({ where: { name: { startsWith: "concurrent-" } } })).toBe(CALLS);
    for (const key of keys) expect(await server.storedRecord(key)).toEqual({ mutation: "createKey", status: "COMPLETED" });
  });
});
