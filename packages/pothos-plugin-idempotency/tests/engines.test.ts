import { connect } from "node:net";
import { createIdempotency, type IdempotencyDriver } from "@onceql/pothos-plugin-idempotency";
import { pgDriver } from "@onceql/pothos-plugin-idempotency/pg";
import pg from "pg";
import { describe, expect, test } from "vitest";
import { openExampleDatabase } from "./helpers/example.ts";
import { postgresAvailable } from "./helpers/postgres.ts";

/** The local MariaDB (the issue's report pointed a PostgreSQL URL at it); its tests are skipped where none listens. */
const MARIADB = { host: "127.0.0.1", port: Number(process.env.ONCEQL_MARIADB_PORT ?? 3306) };
const mariadbListening = await new Promise<boolean>((resolve) => {
  const socket = connect(MARIADB, () => {
    socket.destroy();
    resolve(true);
  });
  socket.on("error", () => resolve(false));
});

const SUPPORTED = /Supported: PostgreSQL 11 or later \(through node-postgres' pg.Pool, or Prisma's @prisma\/adapter-pg\) and PGlite/;

/** A driver whose database says it is `version`: enough for ensureSchema's question. */
function answering(version: string): IdempotencyDriver {
  const sent: string[] = [];
  return {
    shared: true,
    begin: () => Promise.reject(new Error("no attempt here")),
    async query<Row>(text: string) {
      sent.push(text);
      if (/version\(\)/.test(text)) return { rows: [{ version } as Row] };
      throw new Error(`ensureSchema went on to send ${text.slice(0, 40)}`);
    },
  };
}

describe("pgDriver refuses what is not a node-postgres pool, before anything is sent", () => {
  // The public shapes of mysql2's and mariadb's pools (no connect(); getConnection, query, execute or batch).
  const mysql2Pool = { getConnection() {}, query() {}, execute() {}, end() {}, on() {} };
  const mariadbPool = { getConnection() {}, query() {}, batch() {}, end() {}, totalConnections() {} };

  test("a MySQL or MariaDB pool", () => {
    for (const pool of [mysql2Pool, mariadbPool]) {
      expect(() => pgDriver(pool as never)).toThrow(
        /pgDriver's pool must be a node-postgres pool \(new pg.Pool\(...\)\); it was given a MySQL or MariaDB client \(mysql2 or mariadb\): those databases are not supported/,
      );
      expect(() => pgDriver(pool as never)).toThrow(SUPPORTED);
    }
  });

  test("a single pg.Client, nothing, or a bookkeeping pool that is no pool", () => {
    expect(() => pgDriver(new pg.Client() as never)).toThrow(/a single client \(pg.Client\?\): each attempt needs a connection of its own/);
    expect(() => pgDriver(undefined as never)).toThrow(/it was given undefined/);
    const pool = new pg.Pool();
    try {
      expect(() => pgDriver(pool, { bookkeeping: mysql2Pool as never })).toThrow(
        /pgDriver's bookkeeping pool must be a node-postgres pool/,
      );
      expect(() => pgDriver(pool, { watchContinuity: false })).not.toThrow();
    } finally {
      void pool.end();
    }
  });
});

describe("ensureSchema refuses a database that is not PostgreSQL 11+, and creates nothing there", () => {
  test.each([
    ["11.4.2-MariaDB-ubu2404", /The database is MySQL or MariaDB \(SELECT version\(\) says "11.4.2-MariaDB-ubu2404"\)/],
    ["8.0.36", /The database is not PostgreSQL/],
    ["CockroachDB CCL v23.2.0 (x86_64-pc-linux-gnu, built 2023/12/11, go1.21.5)", /The database is CockroachDB, not PostgreSQL/],
    ["PostgreSQL 11.2-YB-2.18.0.0-b0 on x86_64-pc-linux-gnu", /The database is YugabyteDB, not PostgreSQL/],
    ["PostgreSQL 8.0.2 on i686-pc-linux-gnu, compiled by GCC gcc (GCC) 3.4.2, Redshift 1.0.28422", /Redshift, not PostgreSQL/],
    ["PostgreSQL 10.23 on x86_64-pc-linux-gnu", /The database is PostgreSQL 10, older than 11/],
  ])("%s", async (version, message) => {
    const idempotency = createIdempotency({ driver: answering(version) });
    await expect(idempotency.ensureSchema()).rejects.toThrow(message);
    await expect(idempotency.ensureSchema()).rejects.toThrow(SUPPORTED);
  });

  test("PostgreSQL 11 and later, and PGlite, pass (PGlite's own check, in the example database's setup)", async () => {
    const idempotency = createIdempotency({ driver: answering("PostgreSQL 11.22 on x86_64-pc-linux-gnu") });
    await expect(idempotency.ensureSchema()).rejects.toThrow(/ensureSchema went on to send CREATE TABLE/);
    const db = await openExampleDatabase("pglite");
    await db.close();
  });

  test.skipIf(!postgresAvailable)("the PostgreSQL server passes", async () => {
    const db = await openExampleDatabase("postgres");
    await db.close();
  });

  test.skipIf(!mariadbListening)("a PostgreSQL URL that points at MariaDB's port: refused, saying what to check", async () => {
    const pool = new pg.Pool({
      connectionString: `postgresql://root@${MARIADB.host}:${MARIADB.port}/test`,
      connectionTimeoutMillis: 5_000,
    });
    pool.on("error", () => {});
    try {
      const idempotency = createIdempotency({ driver: pgDriver(pool, { watchContinuity: false }) });
      const refused = await idempotency.ensureSchema().then(
        () => undefined,
        (error: unknown) => error as Error,
      );
      expect(refused?.message).toMatch(
        /^The database did not answer as PostgreSQL does \(.+\): is the URL pointing at another engine \(MySQL and MariaDB listen on 3306\)\?/,
      );
      expect(refused?.message).toMatch(SUPPORTED);
      expect(refused?.cause).toBeInstanceOf(Error);
    } finally {
      await pool.end().catch(() => {});
    }
  });

  test("a server that cannot be reached is said as it is, not called another engine", async () => {
    // A port nothing listens on: the driver's own ECONNREFUSED, retryable once the database is up.
    const pool = new pg.Pool({ connectionString: "postgresql://postgres@127.0.0.1:1/none", connectionTimeoutMillis: 2_000 });
    pool.on("error", () => {});
    try {
      const idempotency = createIdempotency({ driver: pgDriver(pool, { watchContinuity: false }) });
      await expect(idempotency.ensureSchema()).rejects.toMatchObject({ code: "ECONNREFUSED" });
    } finally {
      await pool.end().catch(() => {});
    }
  });
});
