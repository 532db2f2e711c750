import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDatabase, postgresAvailable } from "../helpers/databases.ts";
import { CREATE_KEY } from "../helpers/operations.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

/**
 * A failover to an asynchronous replica loses the last commits: the server behind the database
 * URL no longer holds them, and every connection to the old one is cut. Here a committed key
 * vanishes that way (its rows deleted, every session terminated), and each server must then
 * answer it from what the database holds, all alike: none replays from its memory an outcome
 * the database lost.
 */
describe.skipIf(!postgresAvailable())("a committed key lost as in a failover", () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let servers: TestApp[];
  beforeAll(async () => {
    database = await createPostgresDatabase();
    servers = [await startTestApp({ databaseUrl: database.url }), await startTestApp({ databaseUrl: database.url })];
  });
  afterAll(async () => {
    await Promise.all(servers?.map((server) => server.close()) ?? []);
    await database?.drop();
  });

  /** What a failover does to the database of a key: its record and its rows gone, every session cut. */
  async function loseAsInAFailover(clientMutationId: string, keyId: string) {
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      await admin.query("DELETE FROM idempotency_records WHERE client_mutation_id = $1", [clientMutationId]);
      await admin.query("DELETE FROM api_keys WHERE id = $1", [keyId]);
      await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
      );
    } finally {
      await admin.end();
    }
  }

  async function cacheResets(server: TestApp): Promise<number> {
    const text = await (await server.fetch("/metrics")).text();
    return Number(/^onceql_idempotency_cache_resets_total (\d+)/m.exec(text)?.[1] ?? 0);
  }

  it("the server that had cached its outcome answers as the other does: from the database, never from memory", async () => {
    const [a, b] = servers as [TestApp, TestApp];
    const input = { clientMutationId: "failover-1", name: "before the failover" };
    const first = await a.gql(CREATE_KEY, { input });
    expect((await a.gql(CREATE_KEY, { input })).body.extensions.idempotency[0].status).toBe("REPLAYED");
    const resetsBefore = await cacheResets(a);

    await loseAsInAFailover(input.clientMutationId, first.body.data.createKey.key.id);
    // The cut sessions are noticed as the sockets close; the next request would find them cut too.
    for (let i = 0; i < 100 && (await cacheResets(a)) === resetsBefore; i++) await sleep(100);

    const rerun = await b.gql(CREATE_KEY, { input }, { token: a.token });
    expect(rerun.body.extensions.idempotency[0].status).toBe("EXECUTED");
    expect(rerun.body.data.createKey.secret).not.toBe(first.body.data.createKey.secret);
    const fromA = await a.gql(CREATE_KEY, { input });
    expect(fromA.body.extensions.idempotency[0].status).toBe("REPLAYED");
    expect(fromA.body.data).toEqual(rerun.body.data);
    expect(await a.db.prisma.apiKey.count({ where: { name: input.name } })).toBe(1);
    expect(await cacheResets(a)).toBeGreaterThan(resetsBefore);
  });
});
