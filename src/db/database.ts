import { mkdirSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type IdempotencyDriver, localSettings, sqlState, type TimeoutSettings, timeoutSettings } from "@onceql/pothos-plugin-idempotency";
import { DatabaseContinuity } from "@onceql/pothos-plugin-idempotency/pg";
import { prismaDriver } from "@onceql/pothos-plugin-idempotency/prisma";
import { PrismaPg } from "@prisma/adapter-pg";
import { DriverAdapterError, type SqlDriverAdapterFactory, type SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import pg from "pg";
import { ConfigError } from "../config.ts";
import { PrismaClient } from "../generated/prisma/client.ts";
import { lockDataDir } from "./data-dir-lock.ts";
import { atomicScripts } from "./migration-scripts.ts";

export type DatabaseKind = "pglite" | "postgresql";

/** Plain SQL with positional parameters, outside any Prisma transaction. */
export interface RawSql {
  /** `name` makes it a prepared statement, parsed and planned once per connection. */
  query<Row>(text: string, params?: unknown[], name?: string): Promise<{ rows: Row[]; rowCount: number }>;
}

/** One open database: the Prisma client plus what migrations and shutdown need. */
export interface Database {
  kind: DatabaseKind;
  prisma: PrismaClient;
  /**
   * The exactly-once wrapper's way in: attempts it drives itself, whose own statements go straight
   * to the driver, while a mutation's queries go through a Prisma client bound to that attempt's
   * connection alone (`tx`), never through `prisma`.
   */
  idempotencyDriver: IdempotencyDriver<PrismaClient>;
  /**
   * For bookkeeping that needs no durable commit of its own (replay counters): on PostgreSQL a
   * small pool with synchronous_commit off, so these writes skip the WAL flush.
   */
  bookkeeping: RawSql;
  /**
   * A statement on the pool, past the Prisma client, outside any attempt (autocommit): rows as
   * node-postgres or PGlite parse them. Inside an attempt, a mutation has its own `sql`.
   */
  sql<Row>(text: string, values: readonly unknown[]): Promise<Row[]>;
  /**
   * Connections of the pool that attempts and reads share (undefined on PGlite: one session, no
   * pool), from which the app leaves some to reads (see attemptLimits).
   */
  poolSize: number | undefined;
  /**
   * Whether this database takes this server's work, asked on a connection of its own that no
   * attempt or read can hold (for `/readyz`): however busy the pool, the answer is the database's.
   */
  readiness(): Promise<Readiness>;
  /** For migrations: the schema engine connects (and disposes of) adapters of its own. */
  adapterFactory: SqlMigrationAwareDriverAdapterFactory;
  /**
   * Calls `listener` when the database may no longer hold what this process saw it commit (its
   * connections were cut, or it is another server now: a failover, a restore). Never on PGlite,
   * which lives in this process.
   */
  onDiscontinuity(listener: (reason: string) => void): void;
  close(): Promise<void>;
}

/** `unavailable`: the database cannot be reached; `read-only`: a standby, or writes switched off. */
export type Readiness = "ready" | "read-only" | "unavailable";

/** Long enough for a database across a network, short enough that a load balancer's probe is answered. */
const READINESS_TIMEOUT_MS = 2_000;

/**
 * PostgreSQL settings for every connection of the pool: how long any lock may be waited for (a
 * duplicate waiting for the attempt that holds its clientMutationId), how long a statement may run,
 * and how soon the server itself ends a session whose client went silent in a transaction (a
 * network partition), which releases everything that transaction held.
 */
export type SessionSettings = TimeoutSettings;

export interface DatabaseOptions {
  /** A postgresql:// URL; without one, the embedded PGlite database. */
  databaseUrl?: string;
  /** Where the embedded database lives; without one it is kept in memory (tests). */
  dataDir?: string;
  /** Connections in the PostgreSQL pool. */
  poolSize?: number;
  /**
   * What `databaseUrl` reaches: PostgreSQL or a pooler in session mode (the settings are set on
   * each new connection), or a pooler in transaction mode (each attempt sets them with SET LOCAL,
   * and nothing is prepared).
   */
  pooler?: "session" | "transaction";
  /** PostgreSQL itself, for migrations (required behind a pooler in transaction mode). */
  directUrl?: string;
  /** PostgreSQL: settings of every connection of the pool. */
  session?: SessionSettings;
  /** Told every SQL statement sent, Prisma's, the wrapper's and the bookkeeping's (a query log, for tests that count them). */
  onQuery?: (sql: string) => void;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options);
  return openPglite(options.dataDir, options.onQuery);
}

/** A Prisma client over `adapter`: the app's own, and each attempt's (see prismaDriver). */
function prismaClientOn(onQuery: ((sql: string) => void) | undefined): (adapter: SqlDriverAdapterFactory) => PrismaClient {
  return (adapter) => {
    if (!onQuery) return new PrismaClient({ adapter });
    const prisma = new PrismaClient({ adapter, log: [{ emit: "event", level: "query" }] });
    prisma.$on("query", (event) => onQuery(event.query));
    return prisma;
  };
}

/** Database.sql: a statement on the pool, reported to the query log. */
function pastPrisma(
  run: (text: string, values: unknown[]) => Promise<unknown[]>,
  onQuery: ((sql: string) => void) | undefined,
): Database["sql"] {
  return async <Row>(text: string, values: readonly unknown[]) => {
    onQuery?.(text);
    return (await run(text, [...values])) as Row[];
  };
}

function logged(sql: RawSql, onQuery: ((sql: string) => void) | undefined): RawSql {
  if (!onQuery) return sql;
  return {
    query: (text, params, name) => {
      onQuery(text);
      return sql.query(text, params, name);
    },
  };
}

/**
 * The settings every session of the pool carries (session mode), set when a connection opens: a
 * pooler such as PgBouncer refuses them as the startup parameter `options`. A client that vanished
 * without closing its connection is noticed by the server's keepalives, and data it never
 * acknowledges makes the server give up on it, in seconds rather than minutes.
 */
function sessionSql(session: SessionSettings): string {
  return [
    ...timeoutSettings(session, "session"),
    "SET tcp_keepalives_idle = 5",
    "SET tcp_keepalives_interval = 2",
    "SET tcp_keepalives_count = 3",
    `SET tcp_user_timeout = ${Math.round(session.idleInTransactionTimeoutMs)}`,
  ].join("; ");
}

/**
 * Runs `sql` on each new connection before the pool hands it to anyone (pg-pool's `onConnect`:
 * the pool listens for the connection's errors by then, and a failure drops the connection).
 */
function running(sql: string): (client: pg.ClientBase) => Promise<void> {
  return async (client) => {
    await client.query(sql);
  };
}

async function openPostgres(connectionString: string, options: DatabaseOptions): Promise<Database> {
  const max = options.poolSize ?? 10;
  const transactionMode = options.pooler === "transaction";
  if (options.session) await checkPooling(connectionString, options.pooler ?? "session", options.session);
  const pool = new pg.Pool({
    connectionString,
    max,
    connectionTimeoutMillis: 5_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 5_000,
    // Queries go out without waiting for the one before: a mutation's first statement travels
    // with its key's claim (see onlyDatabaseEffects). Not behind a pooler in transaction mode.
    pipeline: !transactionMode,
    ...(options.session && !transactionMode && { onConnect: running(sessionSql(options.session)) }),
  });
  // An idle client that loses its connection emits here; the pool replaces it on next use.
  pool.on("error", () => {});
  const adapter = new PrismaPg(pool);
  const newClient = prismaClientOn(options.onQuery);
  const prisma = newClient(adapter);
  const bookkeeping = new pg.Pool({
    connectionString,
    max: Math.max(2, Math.ceil(max / 2)),
    connectionTimeoutMillis: 5_000,
    // Session mode only: in transaction mode a session-level SET would stay on whichever server
    // connection ran it, for other clients to inherit. There the counts pay the WAL flush.
    ...(!transactionMode && { onConnect: running("SET synchronous_commit = off") }),
  });
  bookkeeping.on("error", () => {});
  // One connection, for the readiness probe alone: it never waits behind attempts or reads.
  const probe = new pg.Pool({
    connectionString,
    max: 1,
    connectionTimeoutMillis: READINESS_TIMEOUT_MS,
    query_timeout: READINESS_TIMEOUT_MS,
    keepAlive: true,
  });
  probe.on("error", () => {});
  const continuity = new DatabaseContinuity();
  continuity.watch(pool, (sql) => bookkeeping.query(sql));
  const raw = logged(
    {
      query: async (text, params, name) => {
        const result = await bookkeeping.query({ text, values: params, name: transactionMode ? undefined : name });
        return { rows: result.rows, rowCount: result.rowCount ?? 0 };
      },
    },
    options.onQuery,
  );
  return {
    kind: "postgresql",
    prisma,
    sql: pastPrisma(async (text, values) => (await pool.query(text, values)).rows, options.onQuery),
    idempotencyDriver: prismaDriver({
      adapter,
      client: newClient,
      // Behind a pooler in transaction mode a client's next transaction may be another server
      // connection's: nothing is prepared, and each attempt sets what it needs for itself.
      pooler: transactionMode ? "transaction" : "session",
      settings: transactionMode && options.session ? localSettings(options.session) : [],
      query: (text, params) => raw.query(text, params),
      onDiscontinuity: (listener) => continuity.onBreak(listener),
      onQuery: options.onQuery,
    }),
    bookkeeping: raw,
    poolSize: max,
    readiness: async () => {
      try {
        const { rows } = await probe.query<{ writable: boolean }>(
          "SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off' AS writable",
        );
        return rows[0]?.writable ? "ready" : "read-only";
      } catch {
        return "unavailable";
      }
    },
    // Pools of their own, which the schema engine ends: it migrates under a session-level lock.
    adapterFactory: atomicScripts(
      new PrismaPg({ connectionString: options.directUrl ?? connectionString, max: 2, connectionTimeoutMillis: 5_000 }),
      async (adapter, script) => {
        // No parameters: pg sends it as one simple query, which PostgreSQL runs as one transaction.
        await adapter.executeRaw({ sql: script, args: [], argTypes: [] });
      },
    ),
    onDiscontinuity: (listener) => continuity.onBreak(listener),
    async close() {
      await prisma.$disconnect();
      await Promise.all([pool.end(), bookkeeping.end(), probe.end()]);
    },
  };
}

async function openPglite(dataDir: string | undefined, onQuery?: (sql: string) => void): Promise<Database> {
  // Loaded only for the embedded database: a server on PostgreSQL starts without it.
  const [{ PGlite }, { PrismaPGlite }] = await Promise.all([import("@electric-sql/pglite"), import("pglite-prisma-adapter")]);
  let unlock = async () => {};
  let pglite: InstanceType<typeof PGlite>;
  if (dataDir) {
    mkdirSync(dataDir, { recursive: true });
    unlock = await lockDataDir(dataDir);
    try {
      pglite = await PGlite.create(path.join(dataDir, "pglite"));
    } catch (error) {
      await unlock();
      throw error;
    }
  } else {
    pglite = await PGlite.create();
  }
  const adapterFactory = new PrismaPGlite(pglite);
  const newClient = prismaClientOn(onQuery);
  const prisma = newClient(adapterFactory);
  // One session: a query waits while a transaction holds it, never runs inside it.
  const raw = logged(
    {
      query: async <Row>(text: string, params?: unknown[]) => {
        const result = await pglite.query<Row>(text, params);
        return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
      },
    },
    onQuery,
  );
  return {
    kind: "pglite",
    prisma,
    sql: pastPrisma(async (text, values) => (await pglite.query(text, values)).rows, onQuery),
    idempotencyDriver: prismaDriver({
      adapter: adapterFactory,
      client: newClient,
      query: (text, params) => raw.query(text, params),
      onQuery,
    }),
    bookkeeping: raw,
    poolSize: undefined,
    // In this process: it serves while it is open. A query would wait behind whichever attempt
    // holds its one session (a card's slow issuer call), and a busy database is not an absent one.
    readiness: async () => (pglite.closed ? "unavailable" : "ready"),
    onDiscontinuity: () => {},
    adapterFactory: atomicScripts(adapterFactory, async (_adapter, script) => {
      try {
        await pglite.exec(script);
      } catch (error) {
        // As @prisma/adapter-pg reports it, so the schema engine records and shows the database's message.
        const e = error as { code?: string; severity?: string; message: string; detail?: string; column?: string; hint?: string };
        throw new DriverAdapterError({
          kind: "postgres",
          code: e.code ?? "",
          severity: e.severity ?? "ERROR",
          message: e.message,
          detail: e.detail,
          column: e.column,
          hint: e.hint,
        });
      }
    }),
    async close() {
      await prisma.$disconnect();
      await pglite.close();
      await unlock();
    },
  };
}

/**
 * Refuses, at start, a connection onceql cannot keep its guarantees on, naming the setting that
 * fixes it: a pooler that refuses startup parameters is fine (nothing is sent as one); a pooler in
 * transaction mode behind ONCEQL_POOLER=session is not (a client's statements reach several server
 * connections: what it set and prepared would be another's). Told apart by the server process id
 * one client sees before and after another client begins a transaction (PgBouncer hands the most
 * recently freed server connection to the next transaction).
 */
async function checkPooling(connectionString: string, pooler: "session" | "transaction", session: SessionSettings): Promise<void> {
  if (pooler === "transaction") return;
  const first = new pg.Client({ connectionString, connectionTimeoutMillis: 5_000 });
  const second = new pg.Client({ connectionString, connectionTimeoutMillis: 5_000 });
  for (const client of [first, second]) client.on("error", () => {});
  try {
    await first.connect();
    await second.connect();
    const pid = async () =>
      (await first.query<{ pid: number; lock: string }>("SELECT pg_backend_pid() AS pid, current_setting('lock_timeout') AS lock"))
        .rows[0]!;
    await first.query(sessionSql(session));
    const before = await pid();
    await second.query("BEGIN; SELECT 1");
    // Unreferenced: once the answer is in, the timer holds nothing open.
    const after = await Promise.race([pid(), sleep(3_000, undefined, { ref: false })]);
    if (!after || after.pid !== before.pid || after.lock === "0") {
      throw new ConfigError(
        "ONCEQL_POOLER",
        "DATABASE_URL reaches a pooler in transaction mode (one client's statements reach several server connections): " +
          "set ONCEQL_POOLER=transaction, with ONCEQL_DIRECT_DATABASE_URL for migrations",
      );
    }
  } catch (error) {
    if (sqlState(error) === "08P01" && /startup parameter/i.test(String((error as Error).message))) {
      throw new ConfigError("DATABASE_URL", `the server refused the connection: ${(error as Error).message}`);
    }
    throw error;
  } finally {
    await Promise.all([first.end().catch(() => {}), second.end().catch(() => {})]);
  }
}
