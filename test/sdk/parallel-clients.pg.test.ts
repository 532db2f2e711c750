import { randomBytes } from "node:crypto";
import { createClient, createServer, type RunningServer } from "onceql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorkspace } from "../../src/auth/workspaces.ts";
import { createPostgresDatabase, postgresAvailable } from "../helpers/databases.ts";

describe.skipIf(!postgresAvailable())("SDK clients racing on PostgreSQL", () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let server: RunningServer;
  let token: string;
  let slowCommitMs = 0;

  beforeAll(async () => {
    database = await createPostgresDatabase();
    server = await createServer({
      port: 0,
      databaseUrl: database.url,
      encryptionKey: randomBytes(32),
      logLevel: "silent",
      idempotencyWaitMs: 100,
      faults: { beforeCommit: () => new Promise((resolve) => setTimeout(resolve, slowCommitMs)) },
    });
    token = (await createWorkspace(server.db.prisma, "sdk")).token;
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  const client = () => createClient({ url: `${server.url}/graphql`, token, baseDelayMs: 10, maxAttempts: 10 });

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
      await new Promise((resolve) => setTimeout(resolve, 50));
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
