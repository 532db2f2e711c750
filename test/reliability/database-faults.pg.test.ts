import { setTimeout as sleep } from "node:timers/promises";
import { createClient } from "@onceql/client";
import { createServer, type RunningServer } from "onceql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTcpProxy } from "../../scripts/tcp-proxy.ts";
import { createWorkspace } from "../../src/auth/workspaces.ts";
import { createPostgresDatabase, postgresAvailable } from "../helpers/databases.ts";
import { CREATE_IDENTITY, CREATE_KEY } from "../helpers/operations.ts";
import { postGraphQL } from "../helpers/processes.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

/** The server reaches PostgreSQL through a proxy that can cut its connections or refuse new ones. */
describe.skipIf(!postgresAvailable())("database faults", () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
  let server: RunningServer;
  let token: string;

  beforeAll(async () => {
    database = await createPostgresDatabase();
    const direct = new URL(database.url);
    proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    const proxied = new URL(database.url);
    proxied.port = String(proxy.port);
    server = await createServer({ port: 0, databaseUrl: proxied.toString(), encryptionKey: "11".repeat(32), logLevel: "silent" });
    token = (await createWorkspace(server.db.prisma, "faults")).token;
  });
  afterAll(async () => {
    proxy?.restore();
    await server?.close();
    await proxy?.close();
    await database?.drop();
  });

  const keysNamed = (name: string) => server.db.prisma.apiKey.count({ where: { name } });

  it("an outage: /readyz says so, mutations get a clear retryable error and change nothing; a retry after runs once", async () => {
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    proxy.refuse();
    proxy.cut();
    try {
      const ready = await fetch(`${server.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.text()).toMatch(/database unavailable/);
      const input = { clientMutationId: "outage-1", name: "during-outage" };
      const failed = await postGraphQL(server.url, token, CREATE_KEY, { input });
      expect(failed.body.errors[0].extensions).toMatchObject({ code: "DATABASE_UNAVAILABLE", outcome: "NOT_STORED" });
      expect(failed.body.errors[0].extensions.retryAfterMs).toBeGreaterThan(0);
      expect(JSON.stringify(failed.body)).not.toMatch(/ECONN|\n\s+at |127\.0\.0\.1/);
    } finally {
      proxy.restore();
    }
    await expect.poll(async () => (await fetch(`${server.url}/readyz`)).status, { timeout: 10_000 }).toBe(200);
    const input = { clientMutationId: "outage-1", name: "during-outage" };
    await expect
      .poll(async () => (await postGraphQL(server.url, token, CREATE_KEY, { input })).body.data?.createKey?.__typename, {
        timeout: 35_000,
        interval: 500,
      })
      .toBe("CreateKeyPayload");
    expect(await keysNamed("during-outage")).toBe(1);
  });

  it("connections cut again and again under load: every mutation, retried by the SDK, happens exactly once", async () => {
    const client = createClient({ url: `${server.url}/graphql`, token, maxAttempts: 100, baseDelayMs: 20, maxDelayMs: 500 });
    let cuts = 0;
    let running = true;
    const cutter = (async () => {
      while (running) {
        await sleep(80 + Math.random() * 150);
        if (!running) break;
        proxy.cut();
        cuts++;
      }
    })();
    // Waves of 40 until the connections were cut several times while mutations were in flight.
    const names: string[] = [];
    const results = [];
    for (let wave = 0; wave < 10 && (wave < 1 || cuts < 4); wave++) {
      const batch = Array.from({ length: 40 }, (_, i) => ({ name: `cut-${wave}-${i}`, externalId: `cut-owner-${i % 3}` }));
      names.push(...batch.map((input) => input.name));
      results.push(...(await Promise.all(batch.map((input) => client.CreateKey({ input: { clientMutationId: input.name, ...input } })))));
    }
    running = false;
    await cutter;
    // Let the pools notice the last cut before this test reads through them.
    await sleep(200);
    expect(cuts).toBeGreaterThanOrEqual(4);
    for (const result of results) expect(result.data.createKey?.__typename).toBe("CreateKeyPayload");
    for (const name of names) expect(await keysNamed(name), name).toBe(1);
    expect(await server.db.prisma.identity.count({ where: { externalId: { startsWith: "cut-owner-" } } })).toBe(3);
  });
});

/**
 * The wrapper prepares its statements once per connection. A session reset behind its back (as a
 * pooler's DISCARD ALL would do) drops them: the attempt that finds one missing closes that
 * connection and runs again on another, and the caller sees nothing of it.
 */
describe.skipIf(!postgresAvailable())("prepared statements dropped behind the server's back", () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let t: TestApp;

  beforeAll(async () => {
    database = await createPostgresDatabase();
    // One connection: the one that loses its statements is the one every mutation takes.
    t = await startTestApp({ databaseUrl: database.url, poolSize: 1 });
  });
  afterAll(async () => {
    await t?.close();
    await database?.drop();
  });

  it("every mutation still runs once and answers", async () => {
    const create = (n: number) => t.gql(CREATE_IDENTITY, { input: { clientMutationId: `prepared-${n}`, externalId: `prepared-${n}` } });
    expect((await create(0)).body.data.createIdentity.__typename).toBe("CreateIdentityPayload");
    for (let n = 1; n <= 3; n++) {
      await t.db.prisma.$executeRawUnsafe("DEALLOCATE ALL");
      const answer = await create(n);
      expect(answer.body.errors).toBeUndefined();
      expect(answer.body.data.createIdentity.__typename).toBe("CreateIdentityPayload");
    }
    expect(await t.db.prisma.identity.count({ where: { externalId: { startsWith: "prepared-" } } })).toBe(4);
    expect((await create(2)).headers.get("idempotent-replayed")).toBe("true");
  });
});
