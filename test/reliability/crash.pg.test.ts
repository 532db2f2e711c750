import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { createClient } from "onceql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServerProcess } from "../../scripts/fleet.ts";
import { createWorkspace } from "../../src/auth/workspaces.ts";
import { type Database, openDatabase } from "../../src/db/database.ts";
import { createPostgresDatabase, postgresAvailable } from "../helpers/databases.ts";

const LEASE_MS = 2_000;

/**
 * A server killed with SIGKILL at random points while a mix of mutations runs, then restarted;
 * every request is retried with its key until it succeeds.
 */
describe.skipIf(!postgresAvailable())("crashes", () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let db: Database;
  let server: ServerProcess;
  let token: string;

  beforeAll(async () => {
    database = await createPostgresDatabase();
    server = await ServerProcess.start({
      DATABASE_URL: database.url,
      ONCEQL_ENCRYPTION_KEY: randomBytes(32).toString("hex"),
      ONCEQL_IDEMPOTENCY_LEASE_MS: String(LEASE_MS),
      ONCEQL_IDEMPOTENCY_WAIT_MS: "300",
    });
    db = await openDatabase({ databaseUrl: database.url, poolSize: 2 });
    token = (await createWorkspace(db.prisma, "crash")).token;
  });
  afterAll(async () => {
    await server?.stop();
    await db?.close();
    await database?.drop();
  });

  it("every key ends with exactly one effect, and none stays IN_PROGRESS past its lease", async () => {
    const client = createClient({ url: `${server.url}/graphql`, token, maxAttempts: 200, baseDelayMs: 20, maxDelayMs: 400 });
    const { key: target } = await (async () => {
      const result = await client.CreateKey({ input: { name: "crash-target" } });
      if (result.data.createKey?.__typename !== "CreateKeyPayload") throw new Error("setup failed");
      return result.data.createKey;
    })();

    const operations = Array.from({ length: 60 }, (_, i) => async () => {
      switch (i % 3) {
        case 0:
          return client.CreateKey({
            input: { clientMutationId: `crash-key-${i}`, name: `crash-key-${i}`, externalId: `crash-owner-${i % 4}` },
          });
        case 1:
          return client.CreateIdentity({ input: { clientMutationId: `crash-identity-${i}`, externalId: `crash-identity-${i}` } });
        default:
          return client.UpdateKey({ input: { clientMutationId: `crash-update-${i}`, keyId: target.id, externalId: `crash-attach-${i}` } });
      }
    });
    let running = true;
    const killer = (async () => {
      while (running && server.kills < 4) {
        await sleep(150 + Math.random() * 450);
        if (!running) break;
        await server.kill();
        await server.restart();
      }
    })();
    const results = await runPool(operations, 6);
    running = false;
    await killer;

    expect(server.kills).toBeGreaterThan(0);
    for (const result of results)
      expect(Object.values(result.data as object)[0]).toMatchObject({ __typename: expect.stringMatching(/Payload$/) });
    for (let i = 0; i < 60; i++) {
      if (i % 3 === 0) expect(await db.prisma.apiKey.count({ where: { name: `crash-key-${i}` } }), `key ${i}`).toBe(1);
      if (i % 3 === 1) expect(await db.prisma.identity.count({ where: { externalId: `crash-identity-${i}` } }), `identity ${i}`).toBe(1);
      if (i % 3 === 2) expect(await db.prisma.identity.count({ where: { externalId: `crash-attach-${i}` } }), `attach ${i}`).toBe(1);
    }
    for (let owner = 0; owner < 4; owner++)
      expect(await db.prisma.identity.count({ where: { externalId: `crash-owner-${owner}` } })).toBe(1);
    expect(await db.prisma.idempotencyRecord.count({ where: { status: "IN_PROGRESS" } })).toBe(0);
    expect(await db.prisma.idempotencyRecord.count({ where: { status: "COMPLETED", clientMutationId: { startsWith: "crash-" } } })).toBe(
      60,
    );
  });
});

/** Runs the operations with at most `concurrency` in flight; resolves with their results in order. */
async function runPool<T>(operations: (() => Promise<T>)[], concurrency: number): Promise<T[]> {
  const results: T[] = new Array(operations.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < operations.length) {
        const index = next++;
        results[index] = await operations[index]!();
      }
    }),
  );
  return results;
}
