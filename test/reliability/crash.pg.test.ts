import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { createClient } from "@onceql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServerProcess } from "../../scripts/fleet.ts";
import { createWorkspace } from "../../src/auth/workspaces.ts";
import { type Database, openDatabase } from "../../src/db/database.ts";
import { createPostgresDatabase, postgresAvailable } from "../helpers/databases.ts";

/**
 * A server killed with SIGKILL while mutations run, then restarted; the SDK retries every request
 * with its key. All at the default settings: the lease, the wait, the SDK's retry policy.
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
    });
    db = await openDatabase({ databaseUrl: database.url, poolSize: 2 });
    token = (await createWorkspace(db.prisma, "crash")).token;
  });
  afterAll(async () => {
    await server?.stop();
    await db?.close();
    await database?.drop();
  });

  it("80 createKey in flight, killed 150 ms and 400 ms in, restarted at once: no call lost, every key once, none found in use", async () => {
    const retries: string[] = [];
    const client = createClient({ url: `${server.url}/graphql`, token, onRetry: ({ reason }) => retries.push(reason) });
    const started = Date.now();
    const calls = Array.from({ length: 80 }, (_, i) =>
      client.CreateKey({ input: { clientMutationId: `burst-${i}`, name: `burst-${i}`, externalId: `burst-owner-${i % 5}` } }),
    );
    for (const at of [150, 400]) {
      await sleep(Math.max(0, started + at - Date.now()));
      await server.kill();
      await server.restart();
    }
    const results = await Promise.all(calls);
    for (const result of results) expect(result.data.createKey?.__typename).toBe("CreateKeyPayload");
    expect(retries.length).toBeGreaterThan(0);
    // The dead server's keys were free the moment it was gone: no retry found one still held.
    expect(retries.filter((reason) => /IN_USE/.test(reason))).toEqual([]);
    for (let i = 0; i < 80; i++) expect(await db.prisma.apiKey.count({ where: { name: `burst-${i}` } }), `key ${i}`).toBe(1);
    for (let owner = 0; owner < 5; owner++)
      expect(await db.prisma.identity.count({ where: { externalId: `burst-owner-${owner}` } })).toBe(1);
  });

  it("a mix of mutations through random kills: every key ends with exactly one effect, and none is left held", async () => {
    const client = createClient({ url: `${server.url}/graphql`, token });
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
