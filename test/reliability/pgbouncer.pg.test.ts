import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { createClient } from "@onceql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServerProcess } from "../../scripts/fleet.ts";
import { type PgBouncer, pgbouncerAvailable, startPgBouncer } from "../../scripts/pgbouncer.ts";
import { createServer } from "../../src/index.ts";
import { createPostgresDatabase, postgresAvailable } from "../helpers/databases.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

/** How soon PostgreSQL ends a silent session in a transaction, at the default settings (a third of the lease). */
const FROZEN_BOUND_MS = 10_000;

/**
 * Behind Debian's PgBouncer, in both of its pool modes, every guarantee holds as on PostgreSQL
 * itself: exactly once across two servers, duplicates waiting for the first, a frozen server's
 * key freed within the bound, a killed server's keys free at once. ONCEQL_POOLER says which mode.
 */
const usable = postgresAvailable() && pgbouncerAvailable();

for (const mode of ["transaction", "session"] as const) {
  describe.skipIf(!usable)(`through PgBouncer in ${mode} mode`, () => {
    let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
    let bouncer: PgBouncer;
    let servers: TestApp[];
    let release: () => void = () => {};
    let holding: () => void = () => {};
    let hold = false;

    beforeAll(async () => {
      database = await createPostgresDatabase();
      // In session mode each client connection holds a server connection for as long as it lives:
      // the pool must hold both servers' (8 + 4 bookkeeping each). In transaction mode 12 serve them all.
      bouncer = await startPgBouncer({ mode, poolSize: mode === "session" ? 30 : 12 });
      const config = { pooler: mode, directDatabaseUrl: database.url };
      servers = await Promise.all(
        [0, 1].map(() =>
          startTestApp({
            databaseUrl: bouncer.through(database.url),
            poolSize: 8,
            config,
            faults: {
              beforeCommit: () => {
                if (!hold) return;
                holding();
                return new Promise<void>((resolve) => (release = resolve));
              },
            },
          }),
        ),
      );
    });
    afterAll(async () => {
      release();
      await Promise.all(servers?.map((server) => server.close().catch(() => {})) ?? []);
      await bouncer?.stop();
      await database?.drop();
    });

    it("60 keys × 4 racing copies on two servers: every key once, every copy the same answer, no statement error", async () => {
      const token = servers[0]!.token;
      const calls = Array.from({ length: 240 }, (_, i) =>
        servers[i % 2]!.sdk({ token }).CreateKey({ input: { clientMutationId: `race-${i % 60}`, name: `race-${i % 60}` } }),
      );
      const results = await Promise.all(calls);
      for (const result of results) expect(result.data.createKey?.__typename).toBe("CreateKeyPayload");
      for (let key = 0; key < 60; key++) {
        const answers = results.filter((_, i) => i % 60 === key).map((result) => JSON.stringify(result.data));
        expect(new Set(answers).size, `key ${key}`).toBe(1);
        expect(await servers[0]!.db.prisma.apiKey.count({ where: { name: `race-${key}` } })).toBe(1);
      }
      expect(results.filter((result) => !result.replayed)).toHaveLength(60);
    });

    it("a duplicate on the other server waits for the first (its lock), then replays it", async () => {
      hold = true;
      const held = new Promise<void>((resolve) => (holding = resolve));
      const input = { clientMutationId: "waited-1", name: "waited" };
      const first = servers[0]!.sdk().CreateKey({ input });
      await held;
      hold = false;
      const duplicate = servers[1]!.sdk({ token: servers[0]!.token }).CreateKey({ input });
      await sleep(300);
      release();
      const [a, b] = await Promise.all([first, duplicate]);
      expect(a.replayed).toBe(false);
      expect(b.replayed).toBe(true);
      expect(b.data).toEqual(a.data);
      expect(await servers[0]!.db.prisma.apiKey.count({ where: { name: "waited" } })).toBe(1);
    });

    it(`a frozen server's key is freed within ${FROZEN_BOUND_MS / 1000} s: the other server runs it once`, async () => {
      hold = true;
      const held = new Promise<void>((resolve) => (holding = resolve));
      const input = { clientMutationId: "frozen-1", name: "frozen" };
      // Holds its transaction open and silent, as a server stopped with SIGSTOP would.
      const stranded = servers[0]!
        .sdk({ maxAttempts: 1 })
        .CreateKey({ input })
        .catch((error: unknown) => error);
      await held;
      hold = false;
      const started = Date.now();
      const result = await servers[1]!.sdk({ token: servers[0]!.token, maxAttempts: undefined }).CreateKey({ input });
      const elapsed = Date.now() - started;
      expect(result.data.createKey?.__typename).toBe("CreateKeyPayload");
      expect(result.replayed).toBe(false);
      expect(elapsed).toBeLessThan(FROZEN_BOUND_MS + 5_000);
      release();
      await stranded;
      expect(await servers[0]!.db.prisma.apiKey.count({ where: { name: "frozen" } })).toBe(1);
    }, 40_000);
  });
}

describe.skipIf(!usable)("a server process behind PgBouncer in transaction mode", () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let bouncer: PgBouncer;
  let server: ServerProcess;

  beforeAll(async () => {
    database = await createPostgresDatabase();
    bouncer = await startPgBouncer({ mode: "transaction" });
    server = await ServerProcess.start({
      DATABASE_URL: bouncer.through(database.url),
      ONCEQL_POOLER: "transaction",
      ONCEQL_DIRECT_DATABASE_URL: database.url,
      ONCEQL_ENCRYPTION_KEY: randomBytes(32).toString("hex"),
    });
  });
  afterAll(async () => {
    await server?.stop();
    await bouncer?.stop();
    await database?.drop();
  });

  it("killed with 40 createKey in flight and restarted: every key once, none found in use", async () => {
    const app = await startTestApp({ databaseUrl: database.url, poolSize: 2 });
    try {
      const retries: string[] = [];
      const client = createClient({ url: `${server.url}/graphql`, token: app.token, onRetry: ({ reason }) => retries.push(reason) });
      const calls = Array.from({ length: 40 }, (_, i) => client.CreateKey({ input: { clientMutationId: `kill-${i}`, name: `kill-${i}` } }));
      await sleep(150);
      await server.kill();
      await server.restart();
      const results = await Promise.all(calls);
      for (const result of results) expect(result.data.createKey?.__typename).toBe("CreateKeyPayload");
      expect(retries.filter((reason) => /IN_USE/.test(reason))).toEqual([]);
      for (let i = 0; i < 40; i++) expect(await app.db.prisma.apiKey.count({ where: { name: `kill-${i}` } }), `key ${i}`).toBe(1);
    } finally {
      await app.close();
    }
  }, 60_000);
});

describe.skipIf(!usable)("a pooler onceql cannot work with", () => {
  it("transaction mode behind ONCEQL_POOLER=session: the server refuses at start, naming the setting", async () => {
    const database = await createPostgresDatabase();
    const bouncer = await startPgBouncer({ mode: "transaction" });
    try {
      await expect(
        createServer({ port: 0, databaseUrl: bouncer.through(database.url), logLevel: "silent", encryptionKey: "11".repeat(32) }),
      ).rejects.toThrow(/ONCEQL_POOLER.*transaction mode.*set ONCEQL_POOLER=transaction/);
    } finally {
      await bouncer.stop();
      await database.drop();
    }
  });

  it("ONCEQL_POOLER=transaction without a direct URL refuses at start (migrations need a session)", async () => {
    await expect(
      createServer({ port: 0, databaseUrl: "postgresql://postgres@127.0.0.1:6432/x", pooler: "transaction", logLevel: "silent" }),
    ).rejects.toThrow(/ONCEQL_DIRECT_DATABASE_URL.*must be set with ONCEQL_POOLER=transaction/);
  });
});
