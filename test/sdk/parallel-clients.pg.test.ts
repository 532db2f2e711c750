import { setTimeout as sleep } from "node:timers/promises";
import { createClient } from "@onceql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDatabase, postgresAvailable } from "../helpers/databases.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

describe.skipIf(!postgresAvailable())("SDK clients racing on PostgreSQL", () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let server: TestApp;
  let url: string;
  let slowCommitMs = 0;

  beforeAll(async () => {
    database = await createPostgresDatabase();
    server = await startTestApp({
      databaseUrl: database.url,
      config: { idempotencyWaitMs: 100 },
      faults: { beforeCommit: () => sleep(slowCommitMs) },
    });
    url = await server.listen();
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  const client = () => createClient({ url: `${url}/graphql`, token: server.token, baseDelayMs: 10, maxAttempts: 10 });

  it("20 clients sending one mutation with one key: one execution, 20 typed, identical results", async () => {
    const input = { clientMutationId: "twenty-clients", name: "twenty", externalId: "sdk-twenty" };
    const results = await Promise.all(Array.from({ length: 20 }, () => client().CreateKey({ input })));
    for (const result of results) {
      expect(result.data.createKey?.__typename).toBe("CreateKeyPayload");
      expect(result.data).toEqual(results[0]!.data);
    }
    expect(results.filter((result) => !result.replayed)).toHaveLength(1);
    expect(await server.db.prisma.apiKey.count({ where: { name: "twenty" } })).toBe(1);
    expect(await server.db.prisma.identity.count({ where: { externalId: "sdk-twenty" } })).toBe(1);
  });

  it("retries IDEMPOTENCY_KEY_IN_USE until the first request's outcome can be replayed", async () => {
    slowCommitMs = 400;
    try {
      const input = { clientMutationId: "sdk-in-use", name: "in-use" };
      const first = client().CreateKey({ input });
      await sleep(50);
      const second = await client().CreateKey({ input });
      expect(second.attempts).toBeGreaterThan(1);
      expect(second.replayed).toBe(true);
      expect(second.data).toEqual((await first).data);
      expect(await server.db.prisma.apiKey.count({ where: { name: "in-use" } })).toBe(1);
    } finally {
      slowCommitMs = 0;
    }
  });
});
