import { randomUUID } from "node:crypto";
import { PGlite } from "@electric-sql/pglite";
import { createIdempotency, type Idempotency, type IdempotencyOptions } from "@onceql/pothos-plugin-idempotency";
import { pgDriver } from "@onceql/pothos-plugin-idempotency/pg";
import { pgliteDriver } from "@onceql/pothos-plugin-idempotency/pglite";
import { type PrismaClientLike, prismaDriver } from "@onceql/pothos-plugin-idempotency/prisma";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { afterAll, beforeAll, describe } from "vitest";
// Any generated Prisma client runs raw SQL on any database: the example's statements go through it
// as `$queryRawUnsafe`, which is what binds them (or not) to the attempt.
import { PrismaClient } from "../../../../src/generated/prisma/client.ts";
import { type Queryable, TODOS_SQL } from "../example/schema.ts";
import { createPostgresDatabase, postgresAvailable } from "./postgres.ts";

/** `prisma` and `prisma-pglite`: prismaDriver over @prisma/adapter-pg and pglite-prisma-adapter. */
export type DriverKind = "pglite" | "postgres" | "prisma" | "prisma-pglite";

const KINDS: readonly DriverKind[] = ["pglite", "postgres", "prisma", "prisma-pglite"];

/** Kinds on PostgreSQL: several runners over one database are several servers. */
export const onPostgres = (kind: DriverKind): boolean => kind === "postgres" || kind === "prisma";

/**
 * prismaDriver as the example uses it: its `tx` (a Prisma client bound to the attempt) answering
 * the example's `query(text, params)` through `$queryRawUnsafe`, every other call passed through.
 */
function prismaExampleDriver(driver: IdempotencyOptions<PrismaClientLike>["driver"]): IdempotencyOptions["driver"] {
  const queryable = (client: PrismaClientLike): Queryable => ({
    query: async (text, params = []) => ({ rows: await client.$queryRawUnsafe<unknown[]>(text, ...params) }),
  });
  return {
    ...driver,
    configure: (bounds) => driver.configure?.(bounds),
    verify: () => driver.verify?.() ?? Promise.resolve(),
    async begin() {
      const t = await driver.begin();
      return {
        send: (script) => t.send(script),
        query: (text, values) => t.query(text, values),
        literal: (value) => t.literal(value),
        call: (statement, values) => t.call(statement, values),
        get sendAhead() {
          return t.sendAhead;
        },
        run: (work) => t.run((client) => work(queryable(client))),
        commit: (script) => t.commit(script),
        rollback: () => t.rollback(),
      };
    },
  };
}

export type RunnerOptions = Omit<IdempotencyOptions, "driver">;

/** One database the example runs on, and the runners ("servers") made over it. */
export interface ExampleDatabase {
  kind: DriverKind;
  /** The database's name on the PostgreSQL server (postgres only). */
  name?: string;
  // biome-ignore lint/suspicious/noExplicitAny: rows of the tables, read by the tests.
  sql(text: string, params?: unknown[]): Promise<any[]>;
  /** A runner of its own over this database (on PostgreSQL with a pool of its own: another server). */
  runner(options?: RunnerOptions): Promise<Idempotency>;
  close(): Promise<void>;
}

/** Opens an empty database of its own, with the plugin's tables (`ensureSchema()`) and the example's. */
export async function openExampleDatabase(kind: DriverKind): Promise<ExampleDatabase> {
  const runners: Idempotency[] = [];
  const pools: pg.Pool[] = [];
  let sql: ExampleDatabase["sql"];
  let makeDriver: () => IdempotencyOptions["driver"];
  let closeDatabase: () => Promise<void>;
  let name: string | undefined;
  if (kind === "pglite" || kind === "prisma-pglite") {
    const db = new PGlite();
    sql = async (text, params) => (await db.query(text, params)).rows;
    makeDriver = () =>
      kind === "pglite"
        ? (pgliteDriver(db) as IdempotencyOptions["driver"])
        : prismaExampleDriver(prismaDriver({ adapter: new PrismaPGlite(db), client: (adapter) => new PrismaClient({ adapter }) }));
    closeDatabase = () => db.close();
  } else {
    const database = await createPostgresDatabase();
    name = database.name;
    const newPool = (max: number, more: { pipeline?: boolean } = {}) => {
      const pool = new pg.Pool({ connectionString: database.url, max, ...more } as pg.PoolConfig);
      // As node-postgres asks of every pool: an idle connection cut (by a test, or by the drop) is no crash.
      pool.on("error", () => {});
      pools.push(pool);
      return pool;
    };
    const admin = newPool(2);
    sql = async (text, params) => (await admin.query(text, params)).rows;
    makeDriver = () => {
      // Pipelining (node-postgres' `pipeline`): createTodo, all of whose effects are statements,
      // sends its first statement behind its key's claim (see onlyDatabaseEffects).
      const pool = newPool(12, { pipeline: true });
      if (kind === "postgres") return pgDriver(pool) as IdempotencyOptions["driver"];
      return prismaExampleDriver(prismaDriver({ adapter: new PrismaPg(pool), client: (adapter) => new PrismaClient({ adapter }) }));
    };
    closeDatabase = database.drop;
  }
  const database: ExampleDatabase = {
    kind,
    name,
    sql,
    async runner(options = {}) {
      const runner = createIdempotency({ ...options, driver: makeDriver() });
      runners.push(runner);
      return runner;
    },
    async close() {
      for (const runner of runners) await runner.close().catch(() => {});
      for (const pool of pools) await pool.end().catch(() => {});
      await closeDatabase();
    },
  };
  const first = await database.runner();
  await first.ensureSchema();
  await sql(TODOS_SQL);
  return database;
}

/**
 * Declares the tests once per driver: PGlite in memory, and PostgreSQL in a database of this
 * file's own (skipped, loudly, where PostgreSQL is unreachable; failed instead in CI).
 */
export function forEachDriver(body: (db: () => ExampleDatabase, kind: DriverKind) => void): void {
  for (const kind of KINDS) {
    describe.skipIf(onPostgres(kind) && !postgresAvailable)(kind, () => {
      let database: ExampleDatabase | undefined;
      beforeAll(async () => {
        database = await openExampleDatabase(kind);
      });
      afterAll(async () => {
        await database?.close();
      });
      body(() => database!, kind);
    });
  }
}

/** A tenant of the test's own, so tests sharing a database never see each other's keys or rows. */
export const newTenant = (): string => `tenant-${randomUUID()}`;

/** The records under a tenant's keys. */
export const recordsOf = (db: ExampleDatabase, tenant: string) =>
  db.sql("SELECT * FROM onceql_idempotency_records WHERE scope = $1 ORDER BY created_at", [tenant]);

/** The tenant's todos. */
export const todosOf = (db: ExampleDatabase, tenant: string) =>
  db.sql("SELECT * FROM todos WHERE scope = $1 ORDER BY created_at", [tenant]);
