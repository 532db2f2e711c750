import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDatabase, postgresAvailable } from "../helpers/databases.ts";
import { CREATE_IDENTITY, CREATE_KEY } from "../helpers/operations.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

/**
 * Two app instances, each with its own executor and connection pool, on one PostgreSQL
 * database: two servers as far as races are concerned. Requests alternate between them.
 */
describe.skipIf(!postgresAvailable())("concurrent duplicates on PostgreSQL", () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let servers: TestApp[];
  /** A third server, whose duplicates wait only 300 ms (ONCEQL_IDEMPOTENCY_WAIT_MS): the two above wait the default. */
  let impatient: TestApp;
  let slowMs = 0;
  const faults = { beforeCommit: () => sleep(slowMs) };

  beforeAll(async () => {
    database = await createPostgresDatabase();
    // Races of 20 duplicates on a loaded machine may wait longer than 300 ms for the first: only the
    // test of that wait itself runs on a server that gives up so soon.
    servers = [await startTestApp({ databaseUrl: database.url, faults }), await startTestApp({ databaseUrl: database.url, faults })];
    impatient = await startTestApp({ databaseUrl: database.url, faults, config: { idempotencyWaitMs: 300 } });
  });
  afterAll(async () => {
    await Promise.all([...(servers ?? []), impatient].map((server) => server?.close()));
    await database?.drop();
  });

  const token = () => servers[0]!.token;
  /** Runs `work` while every commit takes `ms` longer. */
  async function whileSlow<T>(ms: number, work: () => Promise<T>): Promise<T> {
    slowMs = ms;
    try {
      return await work();
    } finally {
      slowMs = 0;
    }
  }
  /** Starts a request on server 0 and gives it a head start; its response is still pending. */
  const startSlowFirst = async (input: Record<string, unknown>) => {
    const response = servers[0]!.gql(CREATE_KEY, { input });
    await sleep(40);
    return { response };
  };
  const fire = (count: number, operation: string, input: (i: number) => Record<string, unknown>) =>
    Promise.all(Array.from({ length: count }, (_, i) => servers[i % 2]!.gql(operation, { input: input(i) }, { token: token() })));

  it("20 createKey with one externalId and 20 keys: 20 successes, exactly one identity", async () => {
    const responses = await fire(20, CREATE_KEY, (i) => ({ clientMutationId: `ext-${i}`, externalId: "shared-user" }));
    for (const response of responses) expect(response.body.data.createKey.__typename).toBe("CreateKeyPayload");
    const identities = await servers[0]!.db.prisma.identity.findMany({ where: { externalId: "shared-user" } });
    expect(identities).toHaveLength(1);
    expect(new Set(responses.map((r) => r.body.data.createKey.key.identity.id))).toEqual(new Set([identities[0]!.id]));
    expect(await servers[0]!.db.prisma.apiKey.count({ where: { identityId: identities[0]!.id } })).toBe(20);
  });

  it("20 createKey with one key: one key row, 20 identical payloads with the same secret", async () => {
    const responses = await fire(20, CREATE_KEY, () => ({ clientMutationId: "one-key", externalId: "solo", name: "raced" }));
    const first = responses[0]!.body.data;
    expect(first.createKey.secret).toMatch(/^oq_sk_/);
    for (const response of responses) expect(response.body.data).toEqual(first);
    const statuses = responses.map((r) => r.body.extensions.idempotency[0].status);
    expect(statuses.filter((status) => status === "EXECUTED")).toHaveLength(1);
    expect(await servers[0]!.db.prisma.apiKey.count({ where: { name: "raced" } })).toBe(1);
    expect(await servers[0]!.db.prisma.identity.count({ where: { externalId: "solo" } })).toBe(1);
    const record = await servers[0]!.db.prisma.idempotencyRecord.findFirstOrThrow({ where: { clientMutationId: "one-key" } });
    await expect
      .poll(
        async () =>
          (await servers[0]!.db.prisma.idempotencyRecord.findFirstOrThrow({ where: { clientMutationId: "one-key" } })).replayCount,
      )
      .toBe(19);
    expect(record.status).toBe("COMPLETED");
  });

  it("20 createIdentity with one externalId: one identity, 19 typed IdentityAlreadyExistsError, no 500", async () => {
    const responses = await fire(20, CREATE_IDENTITY, (i) => ({ clientMutationId: `ident-${i}`, externalId: "contested" }));
    const types = responses.map((r) => r.body.data.createIdentity.__typename).sort();
    expect(types.filter((type) => type === "CreateIdentityPayload")).toHaveLength(1);
    expect(types.filter((type) => type === "IdentityAlreadyExistsError")).toHaveLength(19);
    for (const response of responses) expect(response.body.errors).toBeUndefined();
    expect(await servers[0]!.db.prisma.identity.count({ where: { externalId: "contested" } })).toBe(1);
  });

  it("a duplicate on another server waits for the first and returns its replay", async () => {
    await whileSlow(150, async () => {
      const input = { clientMutationId: "slow-1", name: "slow" };
      const { response: first } = await startSlowFirst(input);
      const duplicate = await servers[1]!.gql(CREATE_KEY, { input }, { token: token() });
      expect(duplicate.body.extensions.idempotency[0].status).toBe("REPLAYED");
      expect(duplicate.body.data).toEqual((await first).body.data);
      expect(await servers[0]!.db.prisma.apiKey.count({ where: { name: "slow" } })).toBe(1);
    });
  });

  it("a duplicate still running after ONCEQL_IDEMPOTENCY_WAIT_MS: IDEMPOTENCY_KEY_IN_USE with retryAfterMs", async () => {
    await whileSlow(1_000, async () => {
      const input = { clientMutationId: "slow-2", name: "slower" };
      const { response: first } = await startSlowFirst(input);
      const duplicate = await impatient.gql(CREATE_KEY, { input }, { token: token() });
      expect(duplicate.body.data.createKey).toBeNull();
      expect(duplicate.body.errors[0].extensions.code).toBe("IDEMPOTENCY_KEY_IN_USE");
      expect(duplicate.body.errors[0].extensions.retryAfterMs).toBeGreaterThan(0);
      expect((await first).body.extensions.idempotency[0].status).toBe("EXECUTED");
      const retry = await impatient.gql(CREATE_KEY, { input }, { token: token() });
      expect(retry.body.extensions.idempotency[0].status).toBe("REPLAYED");
      expect(await servers[0]!.db.prisma.apiKey.count({ where: { name: "slower" } })).toBe(1);
    });
  });

  it("a reused key with another input is refused at once while the first still runs", async () => {
    await whileSlow(3_000, async () => {
      const { response: first } = await startSlowFirst({ clientMutationId: "slow-3", name: "x" });
      const refusals = Promise.all([
        servers[0]!.gql(CREATE_KEY, { input: { clientMutationId: "slow-3", name: "y" } }),
        servers[1]!.gql(CREATE_KEY, { input: { clientMutationId: "slow-3", name: "y" } }, { token: token() }),
      ]);
      // Answered while the first still runs (it takes 3 s more to commit), not after waiting for it.
      expect(await Promise.race([refusals.then(() => "refused"), first.then(() => "first finished")])).toBe("refused");
      const [local, remote] = await refusals;
      expect(local.body.errors[0].extensions.code).toBe("IDEMPOTENCY_KEY_REUSED");
      expect(remote.body.errors[0].extensions.code).toBe("IDEMPOTENCY_KEY_REUSED");
      await first;
    });
  });
});
