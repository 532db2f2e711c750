import { mkdirSync } from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import type { SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { PrismaClient } from "../generated/prisma/client.ts";
import { lockDataDir } from "./data-dir-lock.ts";

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
   * For bookkeeping that needs no durable commit of its own (idempotency claims, releases,
   * counters): on PostgreSQL a small pool with synchronous_commit off, so these writes skip the
   * WAL flush. A mutation's own transaction commits durably, and with it every earlier WAL record.
   */
  bookkeeping: RawSql;
  adapterFactory: SqlMigrationAwareDriverAdapterFactory;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** A postgresql:// URL; without one, the embedded PGlite database. */
  databaseUrl?: string;
  /** Where the embedded database lives; without one it is kept in memory (tests). */
  dataDir?: string;
  /** Connections in the PostgreSQL pool. */
  poolSize?: number;
  /** Told every SQL statement sent, Prisma's and the bookkeeping's (a query log, for tests that count them). */
  onQuery?: (sql: string) => void;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.poolSize ?? 10, options.onQuery);
  return openPglite(options.dataDir, options.onQuery);
}

function newPrismaClient(adapter: SqlMigrationAwareDriverAdapterFactory, onQuery: ((sql: string) => void) | undefined): PrismaClient {
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

function openPostgres(connectionString: string, max: number, onQuery?: (sql: string) => void): Database {
  const adapterFactory = new PrismaPg({ connectionString, max, connectionTimeoutMillis: 5_000 });
  const prisma = newPrismaClient(adapterFactory, onQuery);
  const bookkeeping = new pg.Pool({
    connectionString,
    max: Math.max(2, Math.ceil(max / 2)),
    connectionTimeoutMillis: 5_000,
    options: "-c synchronous_commit=off",
  });
  // An idle client that loses its connection emits here; the pool replaces it on next use.
  bookkeeping.on("error", () => {});
  return {
    kind: "postgresql",
    prisma,
    bookkeeping: logged(
      {
        query: async (text, params, name) => {
          const result = await bookkeeping.query({ text, values: params, name });
          return { rows: result.rows, rowCount: result.rowCount ?? 0 };
        },
      },
      onQuery,
    ),
    adapterFactory,
    async close() {
      await prisma.$disconnect();
      await bookkeeping.end();
    },
  };
}

async function openPglite(dataDir: string | undefined, onQuery?: (sql: string) => void): Promise<Database> {
  let unlock = async () => {};
  let pglite: PGlite;
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
  const prisma = newPrismaClient(adapterFactory, onQuery);
  return {
    kind: "pglite",
    prisma,
    // One session: a query waits while a Prisma transaction holds it, never runs inside it.
    bookkeeping: logged(
      {
        query: async <Row>(text: string, params?: unknown[]) => {
          const result = await pglite.query<Row>(text, params);
          return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
        },
      },
      onQuery,
    ),
    adapterFactory,
    async close() {
      await prisma.$disconnect();
      await pglite.close();
      await unlock();
    },
  };
}
