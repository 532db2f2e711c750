import { mkdirSync } from "node:fs";
import path from "node:path";
import type { IdempotencyDriver } from "@onceql/pothos-plugin-idempotency";
import { DatabaseContinuity } from "@onceql/pothos-plugin-idempotency/pg";
import { BindingAdapterFactory, prismaDriver } from "@onceql/pothos-plugin-idempotency/prisma";
import { PrismaPg } from "@prisma/adapter-pg";
import { DriverAdapterError, type SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import pg from "pg";
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
   * to the driver, while the Prisma queries made inside them go into the same transaction.
   */
  idempotencyDriver: IdempotencyDriver<PrismaClient>;
  /**
   * For bookkeeping that needs no durable commit of its own (replay counters): on PostgreSQL a
   * small pool with synchronous_commit off, so these writes skip the WAL flush.
   */
  bookkeeping: RawSql;
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

/**
 * PostgreSQL settings for every connection of the pool: how long any lock may be waited for (a
 * duplicate waiting for the attempt that holds its clientMutationId), how long a statement may run,
 * and how soon the server itself ends a session whose client went silent in a transaction (a
 * network partition), which releases everything that transaction held.
 */
export interface SessionSettings {
  lockTimeoutMs: number;
  statementTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
}

export interface DatabaseOptions {
  /** A postgresql:// URL; without one, the embedded PGlite database. */
  databaseUrl?: string;
  /** Where the embedded database lives; without one it is kept in memory (tests). */
  dataDir?: string;
  /** Connections in the PostgreSQL pool. */
  poolSize?: number;
  /** PostgreSQL: settings of every connection of the pool. */
  session?: SessionSettings;
  /** Told every SQL statement sent, Prisma's, the wrapper's and the bookkeeping's (a query log, for tests that count them). */
  onQuery?: (sql: string) => void;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options);
  return openPglite(options.dataDir, options.onQuery);
}

function newPrismaClient(adapter: BindingAdapterFactory, onQuery: ((sql: string) => void) | undefined): PrismaClient {
  if (!onQuery) return new PrismaClient({ adapter });
  const prisma = new PrismaClient({ adapter, log: [{ emit: "event", level: "query" }] });
  prisma.$on("query", (event) => onQuery(event.query));
  return prisma;
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

/** Connection options that apply PostgreSQL settings to each session. */
function sessionOptions(session: SessionSettings | undefined): string | undefined {
  if (!session) return undefined;
  return [
    `-c lock_timeout=${Math.round(session.lockTimeoutMs)}`,
    `-c statement_timeout=${Math.round(session.statementTimeoutMs)}`,
    `-c idle_in_transaction_session_timeout=${Math.round(session.idleInTransactionTimeoutMs)}`,
    // A client that vanished without closing its connection is noticed by the server's keepalives,
    // and data it never acknowledges makes the server give up on it, in seconds rather than minutes.
    "-c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=3",
    `-c tcp_user_timeout=${Math.round(session.idleInTransactionTimeoutMs)}`,
  ].join(" ");
}

function openPostgres(connectionString: string, options: DatabaseOptions): Database {
  const max = options.poolSize ?? 10;
  const pool = new pg.Pool({
    connectionString,
    max,
    connectionTimeoutMillis: 5_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 5_000,
    options: sessionOptions(options.session),
  });
  // An idle client that loses its connection emits here; the pool replaces it on next use.
  pool.on("error", () => {});
  const binding = new BindingAdapterFactory(new PrismaPg(pool), "postgresql");
  const prisma = newPrismaClient(binding, options.onQuery);
  const bookkeeping = new pg.Pool({
    connectionString,
    max: Math.max(2, Math.ceil(max / 2)),
    connectionTimeoutMillis: 5_000,
    options: "-c synchronous_commit=off",
  });
  bookkeeping.on("error", () => {});
  const continuity = new DatabaseContinuity();
  continuity.watch(pool, (sql) => bookkeeping.query(sql));
  const raw = logged(
    {
      query: async (text, params, name) => {
        const result = await bookkeeping.query({ text, values: params, name });
        return { rows: result.rows, rowCount: result.rowCount ?? 0 };
      },
    },
    options.onQuery,
  );
  return {
    kind: "postgresql",
    prisma,
    idempotencyDriver: prismaDriver({
      adapter: binding,
      client: prisma,
      query: (text, params) => raw.query(text, params),
      onDiscontinuity: (listener) => continuity.onBreak(listener),
      onQuery: options.onQuery,
    }),
    bookkeeping: raw,
    // Pools of their own, which the schema engine ends: it migrates under a session-level lock.
    adapterFactory: atomicScripts(new PrismaPg({ connectionString, max: 2, connectionTimeoutMillis: 5_000 }), async (adapter, script) => {
      // No parameters: pg sends it as one simple query, which PostgreSQL runs as one transaction.
      await adapter.executeRaw({ sql: script, args: [], argTypes: [] });
    }),
    onDiscontinuity: (listener) => continuity.onBreak(listener),
    async close() {
      await prisma.$disconnect();
      await Promise.all([pool.end(), bookkeeping.end()]);
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
  const binding = new BindingAdapterFactory(adapterFactory, "pglite");
  const prisma = newPrismaClient(binding, onQuery);
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
    idempotencyDriver: prismaDriver({ adapter: binding, client: prisma, query: (text, params) => raw.query(text, params), onQuery }),
    bookkeeping: raw,
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
