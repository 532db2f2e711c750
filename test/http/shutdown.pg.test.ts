import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { createClient, OnceqlError } from "@onceql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServerProcess } from "../../scripts/fleet.ts";
import { createWorkspace } from "../../src/auth/workspaces.ts";
import { type Database, openDatabase } from "../../src/db/database.ts";
import { createPostgresDatabase, postgresAvailable } from "../helpers/databases.ts";
import { startTestIssuer, type TestIssuer } from "../helpers/issuer.ts";
import { readyzHalfSent } from "../helpers/processes.ts";

/**
 * SIGTERM to `node dist/server.js` on PostgreSQL, under load: the server says it is going
 * (/readyz), lets what it accepted finish, refuses the rest, and exits 0; a client that retries
 * with its keys against the next server loses nothing and doubles nothing.
 */
describe.skipIf(!postgresAvailable())("shutdown on PostgreSQL", () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let db: Database;
  let issuer: TestIssuer;
  let token: string;
  let env: Record<string, string>;
  const servers: ServerProcess[] = [];

  beforeAll(async () => {
    database = await createPostgresDatabase();
    issuer = await startTestIssuer();
    db = await openDatabase({ databaseUrl: database.url, poolSize: 2 });
    token = (await createWorkspace(db.prisma, "shutdown")).token;
    env = {
      DATABASE_URL: database.url,
      ONCEQL_ENCRYPTION_KEY: randomBytes(32).toString("hex"),
      ONCEQL_ISSUER_URL: issuer.url,
      LOG_LEVEL: "info",
    };
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.kill()));
    await issuer?.close();
    await db?.close();
    await database?.drop();
  });

  async function start(extra: Record<string, string> = {}): Promise<ServerProcess> {
    const server = await ServerProcess.start({ ...env, ...extra });
    servers.push(server);
    return server;
  }

  async function identity(server: ServerProcess, externalId: string): Promise<string> {
    const result = await createClient({ url: `${server.url}/graphql`, token }).CreateIdentity({
      input: { clientMutationId: `identity-${externalId}`, externalId },
    });
    if (result.data.createIdentity?.__typename !== "CreateIdentityPayload") throw new Error("setup failed");
    return result.data.createIdentity.identity.id;
  }

  it("under load: /readyz 503 at once, in-flight calls (a slow createCard too) answered, the rest refused, exit 0; retried with their keys, every key once", async () => {
    const server = await start({ ONCEQL_SHUTDOWN_TIMEOUT_MS: "10000" });
    const holder = await identity(server, "slow-card-holder");
    // A client that tries once, so every error the shutdown causes is seen here.
    const client = createClient({ url: `${server.url}/graphql`, token, maxAttempts: 1 });
    const probes = await Promise.all(Array.from({ length: 8 }, () => readyzHalfSent(server.port)));
    // Read by the server while it is idle: a connection whose first bytes it has not read yet is idle to it, and closed at once.
    await sleep(200);

    const counted = { input: { clientMutationId: "counted", name: "counted" } };
    await client.CreateKey(counted);
    await issuer.faults({ delayMs: 1_500 });
    const before = issuer.requests();
    const card = client.CreateCard({ input: { clientMutationId: "slow-card", identityId: holder } });
    // The card's attempt is inside its transaction, waiting for the issuer.
    while (issuer.requests() === before) await sleep(5);
    let answered = 0;
    const key = (i: number) =>
      settled(client.CreateKey({ input: { clientMutationId: `load-${i}`, name: `load-${i}` } })).finally(() => answered++);
    const early = Array.from({ length: 60 }, (_, i) => key(i));
    // Replays, counted in memory: whichever are answered must be in the stored count after the shutdown.
    const replays = Array.from({ length: 10 }, () => settled(client.CreateKey(counted)));
    // The server is busy with them: the first few are answered, the rest are in flight.
    while (answered < 5) await sleep(2);

    const signalled = Date.now();
    const exited = server.terminate();
    const refusal = firstRefusal(server.port);
    const late = Array.from({ length: 20 }, (_, i) => key(60 + i));
    const readiness: number[] = [];
    for (const probe of probes) {
      const answer = await probe.finish();
      readiness.push(answer.status);
      if (answer.status === 503) expect(answer.body).toBe("shutting down\n");
      await sleep(25);
    }
    const refusedAt = await refusal;
    const results = await Promise.all([...early, ...late]);
    const cardResult = await card;
    const replayed = (await Promise.all(replays)).filter((result) => result.status === "fulfilled" && result.value.replayed).length;
    const code = await exited;
    const shutdownMs = Date.now() - signalled;
    console.log(`shutdown under load: ${shutdownMs} ms; new connections refused ${refusedAt - signalled} ms after SIGTERM`);

    // Ready until the signal is handled, then 503 and never ready again; a fresh connection is refused.
    expect(readiness.at(-1)).toBe(503);
    expect(readiness.slice(readiness.indexOf(503))).toEqual(readiness.slice(readiness.indexOf(503)).map(() => 503));
    expect(readiness.filter((status) => status !== 503 && status !== 200)).toEqual([]);
    expect(refusedAt - signalled).toBeLessThan(2_000);
    expect(code).toBe(0);
    expect(shutdownMs).toBeLessThan(10_000 + 3_000);
    // The slow attempt was let finish: its card answered, though the shutdown began 1.5 s before.
    expect(cardResult.data.createCard?.__typename).toBe("CreateCardPayload");

    const unanswered: number[] = [];
    for (const [i, result] of results.entries()) {
      if (result.status === "fulfilled") {
        expect(result.value.data.createKey?.__typename, `load-${i}`).toBe("CreateKeyPayload");
        continue;
      }
      unanswered.push(i);
      // Safe to retry with its key: the connection was refused or reset (the SDK cannot tell what ran), or nothing was stored.
      expect(result.reason, `load-${i}`).toBeInstanceOf(OnceqlError);
      expect(["NOT_STORED", "UNKNOWN"], `load-${i}: ${result.reason}`).toContain((result.reason as OnceqlError).outcome);
      expect(connectionError(result.reason), `load-${i}: ${result.reason}`).toBe(true);
    }
    console.log(`readiness after SIGTERM: ${readiness.join(" ")}`);
    console.log(`answered ${results.length - unanswered.length} of ${results.length}; refused or reset: ${unanswered.length}`);
    expect(server.log()).toMatch(/"msg":"stopped the sweepers"/);
    expect(server.log()).toMatch(/"msg":"in-flight requests finished"/);
    expect(server.log()).toMatch(/"msg":"stored the replay counts kept in memory"/);
    expect(server.log()).toMatch(/"msg":"closed the database"/);

    await issuer.clearFaults();
    const next = await start();
    const retry = createClient({ url: `${next.url}/graphql`, token });
    for (const i of unanswered) {
      const again = await retry.CreateKey({ input: { clientMutationId: `load-${i}`, name: `load-${i}` } });
      expect(again.data.createKey?.__typename).toBe("CreateKeyPayload");
    }
    const record = await retry.IdempotencyRecord({ clientMutationId: "counted" });
    expect(record.data.idempotencyRecord?.replayCount).toBe(replayed);
    console.log(`replays answered before exit, and counted: ${replayed}`);
    for (let i = 0; i < 80; i++) expect(await db.prisma.apiKey.count({ where: { name: `load-${i}` } }), `load-${i}`).toBe(1);
    expect(await db.prisma.card.count({ where: { identityId: holder } })).toBe(1);
    expect(issuer.cardsOf(holder)).toHaveLength(1);
    await next.stop();
  });

  it("a request still running past ONCEQL_SHUTDOWN_TIMEOUT_MS does not keep the process alive; its key is safe to retry", async () => {
    const server = await start({ ONCEQL_SHUTDOWN_TIMEOUT_MS: "500" });
    const holder = await identity(server, "cut-off-holder");
    const client = createClient({ url: `${server.url}/graphql`, token, maxAttempts: 1 });
    await issuer.faults({ delayMs: 4_000 });
    const before = issuer.requests();
    const card = client.CreateCard({ input: { clientMutationId: "cut-off-card", identityId: holder } }).catch((error: unknown) => error);
    while (issuer.requests() === before) await sleep(5);

    const signalled = Date.now();
    const code = await server.terminate();
    const shutdownMs = Date.now() - signalled;
    console.log(`shutdown with a request past the 500 ms timeout: ${shutdownMs} ms`);
    expect(code).toBe(0);
    expect(shutdownMs).toBeGreaterThanOrEqual(500);
    // The timeout, the second the pool is given to end, and slack for a loaded machine; the issuer answers only at 4 s.
    expect(shutdownMs).toBeLessThan(3_500);
    const cut = await card;
    expect(cut).toBeInstanceOf(OnceqlError);
    expect((cut as OnceqlError).outcome).toBe("UNKNOWN");
    expect(server.log()).toMatch(/requests still running after ONCEQL_SHUTDOWN_TIMEOUT_MS/);

    await issuer.clearFaults();
    const next = await start();
    const again = await createClient({ url: `${next.url}/graphql`, token }).CreateCard({
      input: { clientMutationId: "cut-off-card", identityId: holder },
    });
    expect(again.data.createCard?.__typename).toBe("CreateCardPayload");
    expect(await db.prisma.card.count({ where: { identityId: holder } })).toBe(1);
    expect(issuer.cardsOf(holder).filter((c) => c.status === "ACTIVE")).toHaveLength(1);
    await next.stop();
  });
});

/** When a fresh connection is first refused. */
async function firstRefusal(port: number): Promise<number> {
  for (;;) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(false);
      });
      socket.once("error", () => resolve(true));
    });
    if (refused) return Date.now();
    await sleep(10);
  }
}

/** The call's settlement, observed at once: a call refused while the test is busy elsewhere is no unhandled rejection. */
function settled<T>(call: Promise<T>): Promise<PromiseSettledResult<T>> {
  return call.then(
    (value) => ({ status: "fulfilled", value }),
    (reason: unknown) => ({ status: "rejected", reason }),
  );
}

function connectionError(error: unknown): boolean {
  const causes: string[] = [];
  for (let at: unknown = error; at instanceof Error; at = at.cause) causes.push(`${(at as { code?: string }).code ?? ""} ${at.message}`);
  return /ECONNREFUSED|ECONNRESET|EPIPE|other side closed|socket hang up|fetch failed/.test(causes.join("\n"));
}
