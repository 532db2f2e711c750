import { isDatabaseUnavailable, sqlState } from "./database-errors.ts";
import { UnsupportedSetupError } from "./errors.ts";

/**
 * The oldest PostgreSQL whose SQL the plugin uses: `hashtextextended` (the keys' advisory locks)
 * came in 11; `pg_current_wal_lsn` and `pg_control_system` (continuity) are older.
 */
export const MIN_POSTGRES_MAJOR = 11;

export const SUPPORTED_ENGINES = `Supported: PostgreSQL ${MIN_POSTGRES_MAJOR} or later (through node-postgres' pg.Pool, or Prisma's @prisma/adapter-pg) and PGlite (pgliteDriver)`;

/**
 * Refuses what is not a node-postgres pool before anything is sent: a MySQL or MariaDB pool would
 * otherwise fail on the first attempt with `pool.connect is not a function`, and a single pg.Client
 * would serialise (and mix) every attempt on one connection.
 */
export function assertNodePostgresPool(pool: unknown, option = "pool"): void {
  const candidate = (typeof pool === "object" && pool !== null ? pool : {}) as Record<string, unknown>;
  const has = (name: string) => typeof candidate[name] === "function";
  if (has("connect") && has("query") && typeof candidate.totalCount === "number") return;
  const given =
    pool === null || typeof pool !== "object"
      ? String(pool)
      : has("getConnection") || has("execute") || has("batch")
        ? "a MySQL or MariaDB client (mysql2 or mariadb): those databases are not supported"
        : has("connect") && has("query")
          ? "a single client (pg.Client?): each attempt needs a connection of its own from a pg.Pool"
          : `an object with no connect() and query() (${pool.constructor?.name ?? "Object"})`;
  throw new UnsupportedSetupError(
    `pgDriver's ${option} must be a node-postgres pool (new pg.Pool(...)); it was given ${given}. ${SUPPORTED_ENGINES}.`,
  );
}

/**
 * Asks the server what it is, and refuses one that is not PostgreSQL (or is older than the SQL
 * needs). Engines that speak PostgreSQL's protocol without its semantics are refused too:
 * CockroachDB (no advisory locks, another isolation), YugabyteDB (its advisory locks are opt-in
 * and distributed) and Redshift; exactly-once rests on those locks and on a transaction's rollback.
 */
export async function assertPostgres(query: (text: string) => Promise<{ rows: unknown[] }>): Promise<void> {
  let version: unknown;
  try {
    const { rows } = await query("SELECT version() AS version");
    version = (rows[0] as { version?: unknown } | undefined)?.version;
  } catch (error) {
    // Unreachable, or PostgreSQL itself refusing (a permission, say): said as it is.
    if (isDatabaseUnavailable(error) || sqlState(error) !== undefined) throw error;
    const said = error instanceof Error ? error.message : String(error);
    throw new UnsupportedSetupError(
      `The database did not answer as PostgreSQL does (${said}): is the URL pointing at another engine (MySQL and MariaDB listen on 3306)? ${SUPPORTED_ENGINES}.`,
      { cause: error },
    );
  }
  const text = typeof version === "string" ? version : String(version);
  const match = /^PostgreSQL (\d+)/.exec(text);
  const refuse = (why: string) =>
    new UnsupportedSetupError(`The database is ${why} (SELECT version() says "${text.slice(0, 120)}"). ${SUPPORTED_ENGINES}.`);
  if (!match) {
    const engine = /cockroach/i.test(text)
      ? "CockroachDB, not PostgreSQL"
      : /mariadb|mysql/i.test(text)
        ? "MySQL or MariaDB"
        : "not PostgreSQL";
    throw refuse(engine);
  }
  if (/-YB-/.test(text)) throw refuse("YugabyteDB, not PostgreSQL");
  if (/redshift/i.test(text)) throw refuse("Redshift, not PostgreSQL");
  if (Number(match[1]) < MIN_POSTGRES_MAJOR) throw refuse(`PostgreSQL ${match[1]}, older than ${MIN_POSTGRES_MAJOR}`);
}
