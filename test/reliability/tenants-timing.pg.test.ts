import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDatabase, postgresAvailable } from "../helpers/databases.ts";
import { CREATE_KEY } from "../helpers/operations.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

/** The idempotency check must not let one workspace feel another's key: no wait, no refusal. */
describe.skipIf(!postgresAvailable())("tenants and the timing of the idempotency check", () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let servers: TestApp[];
  let slowFor: string | undefined;

  beforeAll(async () => {
    database = await createPostgresDatabase();
    const faults = {
      beforeCommit: () => sleep(slowFor ? 1_000 : 0),
    };
    servers = [await startTestApp({ databaseUrl: database.url, faults }), await startTestApp({ databaseUrl: database.url })];
  });
  afterAll(async () => {
    await Promise.all(servers?.map((server) => server.close()) ?? []);
    await database?.drop();
  });

  it("a key still running in one workspace costs another workspace nothing, on this server or another", async () => {
    const alice = servers[0]!.token;
    const others = [await servers[0]!.newWorkspace("mallory"), await servers[0]!.newWorkspace("trent")];
    slowFor = "alice";
    try {
      const running = servers[0]!.gql(CREATE_KEY, { input: { clientMutationId: "shared-key", name: "alice-slow" } }, { token: alice });
      await sleep(100);
      slowFor = undefined;
      for (const [i, server] of servers.entries()) {
        const started = performance.now();
        const response = await server.gql(CREATE_KEY, { input: { clientMutationId: "shared-key", name: "other" } }, { token: others[i]! });
        expect(performance.now() - started).toBeLessThan(500);
        expect(response.body.extensions.idempotency[0].status).toBe("EXECUTED");
      }
      expect((await running).body.extensions.idempotency[0].status).toBe("EXECUTED");
    } finally {
      slowFor = undefined;
    }
  });
});
