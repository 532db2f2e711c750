import { CreateWalletDocument, type CreateWalletMutation, OnceqlError } from "@onceql/client";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDatabase, postgresAvailable } from "../helpers/databases.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

/**
 * Every error of a mutation field says what it left of its key (`extensions.outcome`), and a
 * database that is only busy is told apart from a bug and from a key in use: other sessions hold
 * table locks here, and the lock and statement timeouts are small (they fire only on a wait, which
 * the tests hold until they release it, so a loaded machine does not change what they see).
 */
describe.skipIf(!postgresAvailable())("errors that say what happened to the key", () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  /** lock_timeout 300 ms. */
  let t: TestApp;
  /** statement_timeout 1 s, lock_timeout longer: a lock wait ends as a statement timeout. */
  let leased: TestApp;
  let admin: pg.Client;
  let beforeCommit: ((mutation: string) => Promise<void>) | undefined;

  beforeAll(async () => {
    database = await createPostgresDatabase();
    admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    t = await startTestApp({
      databaseUrl: database.url,
      poolSize: 4,
      config: { idempotencyWaitMs: 300 },
      faults: { beforeCommit: (mutation) => beforeCommit?.(mutation) },
    });
    leased = await startTestApp({
      databaseUrl: database.url,
      poolSize: 2,
      config: { idempotencyWaitMs: 20_000, idempotencyLeaseMs: 1_000 },
    });
  });
  afterAll(async () => {
    await t?.close();
    await leased?.close();
    await admin?.end();
    await database?.drop();
  });

  /** Another session that takes `table` in ACCESS EXCLUSIVE mode (waiting, if need be, until it can). */
  async function lockTable(table: string) {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await client.query("BEGIN");
    const { pid } = (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!;
    const locked = client.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
    let released = false;
    return {
      locked,
      /** Until the lock is taken or queued: then every later reader of the table waits behind it. */
      async queued() {
        await expect
          .poll(
            async () => (await admin.query("SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1", [pid])).rows[0]?.wait_event_type,
          )
          .toBe("Lock");
      },
      async release() {
        if (released) return;
        released = true;
        await locked;
        await client.query("ROLLBACK");
        await client.end();
      },
    };
  }

  const createWallet = (app: TestApp, clientMutationId: string, name: string) =>
    app.request<CreateWalletMutation>(CreateWalletDocument, { input: { clientMutationId, name } });
  const walletsNamed = (name: string) => t.db.prisma.wallet.count({ where: { name } });
  const records = (clientMutationId: string) => t.db.prisma.idempotencyRecord.count({ where: { clientMutationId } });

  it("a lock timeout in the mutation's own statement: DATABASE_BUSY, NOT_STORED, nothing stored; the same key runs after", async () => {
    const locker = await lockTable("wallets");
    await locker.locked;
    let failed: Awaited<ReturnType<typeof createWallet>>;
    try {
      failed = await createWallet(t, "busy-lock", "busy-lock");
    } finally {
      await locker.release();
    }
    expect(failed.errors).toHaveLength(1);
    expect(failed.errors![0]).toMatchObject({ path: ["createWallet"], extensions: { code: "DATABASE_BUSY", outcome: "NOT_STORED" } });
    expect(failed.errors![0]!.extensions!.retryAfterMs).toBeGreaterThan(0);
    expect(failed.data?.createWallet).toBeNull();
    expect(await walletsNamed("busy-lock")).toBe(0);
    expect(await records("busy-lock")).toBe(0);

    const retry = await createWallet(t, "busy-lock", "busy-lock");
    expect(retry.data?.createWallet?.__typename).toBe("CreateWalletPayload");
    expect(retry.extensions?.idempotency?.[0]?.status).toBe("EXECUTED");
    expect(await walletsNamed("busy-lock")).toBe(1);
  });

  it("a statement timeout in the mutation's own statement: DATABASE_BUSY, NOT_STORED; the same key runs after", async () => {
    const locker = await lockTable("wallets");
    await locker.locked;
    let failed: Awaited<ReturnType<typeof createWallet>>;
    try {
      failed = await createWallet(leased, "busy-statement", "busy-statement");
    } finally {
      await locker.release();
    }
    expect(failed.errors![0]).toMatchObject({ path: ["createWallet"], extensions: { code: "DATABASE_BUSY", outcome: "NOT_STORED" } });
    expect(await walletsNamed("busy-statement")).toBe(0);
    const retry = await createWallet(leased, "busy-statement", "busy-statement");
    expect(retry.data?.createWallet?.__typename).toBe("CreateWalletPayload");
  });

  it("idempotency_records locked while a new key is claimed: DATABASE_BUSY, not IDEMPOTENCY_KEY_IN_USE", async () => {
    const locker = await lockTable("idempotency_records");
    await locker.locked;
    let failed: Awaited<ReturnType<typeof createWallet>>;
    try {
      failed = await createWallet(t, "busy-claim", "busy-claim");
    } finally {
      await locker.release();
    }
    expect(failed.errors![0]).toMatchObject({ path: ["createWallet"], extensions: { code: "DATABASE_BUSY", outcome: "NOT_STORED" } });
    expect(await walletsNamed("busy-claim")).toBe(0);
    const retry = await createWallet(t, "busy-claim", "busy-claim");
    expect(retry.extensions?.idempotency?.[0]?.status).toBe("EXECUTED");
  });

  it("a relation read failing after the commit: its error says STORED, and the same key replays", async () => {
    let locker: Awaited<ReturnType<typeof lockTable>> | undefined;
    // Queued behind the attempt's own insert, the lock is taken the moment the attempt commits,
    // before the payload's balances are read.
    beforeCommit = async (mutation) => {
      if (mutation !== "createWallet") return;
      beforeCommit = undefined;
      locker = await lockTable("wallet_balances");
      await locker.queued();
    };
    let failed: Awaited<ReturnType<typeof createWallet>>;
    try {
      failed = await createWallet(t, "read-after", "read-after");
    } finally {
      beforeCommit = undefined;
      await locker?.release();
    }
    expect(locker).toBeDefined();
    expect(failed.errors).toHaveLength(1);
    expect(failed.errors![0]).toMatchObject({
      path: ["createWallet", "wallet", "balances"],
      extensions: { code: "DATABASE_BUSY", outcome: "STORED" },
    });
    expect(failed.extensions?.idempotency).toEqual([{ field: "createWallet", clientMutationId: "read-after", status: "EXECUTED" }]);
    expect(await walletsNamed("read-after")).toBe(1);

    const replay = await createWallet(t, "read-after", "read-after");
    expect(replay.errors).toBeUndefined();
    expect(replay.extensions?.idempotency?.[0]?.status).toBe("REPLAYED");
    const wallet = replay.data?.createWallet;
    if (wallet?.__typename !== "CreateWalletPayload") throw new Error(`unexpected ${wallet?.__typename}`);
    expect(wallet.wallet.balances.map((balance) => balance.name)).toEqual(["main"]);
    expect(await walletsNamed("read-after")).toBe(1);
  });

  it("the connection lost on the commit's round trip: UNKNOWN; the same key then answers what happened", async () => {
    beforeCommit = async (mutation) => {
      if (mutation !== "createWallet") return;
      beforeCommit = undefined;
      const attempt =
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'onceql:createWallet:%'";
      await admin.query(`SELECT pg_terminate_backend(pid) FROM (${attempt}) a`);
      await expect.poll(async () => (await admin.query(attempt)).rowCount).toBe(0);
    };
    const failed = await createWallet(t, "lost-commit", "lost-commit");
    expect(failed.errors![0]).toMatchObject({ path: ["createWallet"], extensions: { code: "DATABASE_UNAVAILABLE", outcome: "UNKNOWN" } });
    // Here the COMMIT never reached the server: the same key runs it, once.
    const retry = await createWallet(t, "lost-commit", "lost-commit");
    expect(retry.extensions?.idempotency?.[0]?.status).toBe("EXECUTED");
    expect(await walletsNamed("lost-commit")).toBe(1);
  });

  it("the SDK: OnceqlError.outcome, and DATABASE_BUSY retried with the same key", async () => {
    const locker = await lockTable("wallets");
    await locker.locked;
    try {
      const error = await t
        .sdk()
        .CreateWallet({ input: { clientMutationId: "sdk-busy", name: "sdk-busy" } })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OnceqlError);
      expect(error).toMatchObject({ code: "DATABASE_BUSY", outcome: "NOT_STORED", attempts: 1, clientMutationId: "sdk-busy" });
      const result = await t
        .sdk({ maxAttempts: 5, maxDelayMs: 50, onRetry: () => void locker.release() })
        .CreateWallet({ input: { clientMutationId: "sdk-busy", name: "sdk-busy" } });
      expect(result.attempts).toBeGreaterThanOrEqual(2);
      expect(result.idempotency[0]?.status).toBe("EXECUTED");
    } finally {
      await locker.release();
    }
    expect(await walletsNamed("sdk-busy")).toBe(1);
  });

  it("/readyz says 503 while the database takes no writes", async () => {
    const name = new URL(database.url).pathname.slice(1);
    expect((await t.fetch("/readyz")).status).toBe(200);
    const dropSessions = () =>
      admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");
    await admin.query(`ALTER DATABASE ${name} SET default_transaction_read_only = on`);
    try {
      await dropSessions();
      await expect.poll(async () => (await t.fetch("/readyz")).text()).toBe("database read-only\n");
      expect((await t.fetch("/readyz")).status).toBe(503);
    } finally {
      await admin.query(`ALTER DATABASE ${name} RESET default_transaction_read_only`);
      await dropSessions();
    }
    await expect.poll(async () => (await t.fetch("/readyz")).status).toBe(200);
  });
});
