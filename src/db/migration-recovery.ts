import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import { MARKS_TABLE, SCRIPT_LOCK } from "./migration-scripts.ts";

/** The advisory lock the schema engine migrates under: held, no migration is under way elsewhere. */
const PRISMA_MIGRATE_LOCK = 72707369;

/** A migration cut off or failed, of which this process cannot prove what it left behind. */
export class MigrationNeedsResolveError extends Error {
  constructor(readonly migration: string) {
    super(
      `Migration ${migration} was cut off or failed, and onceql cannot tell what it left behind. ` +
        `Check the database, then run \`npm run cli -- db resolve --rolled-back ${migration}\` if none of it is applied ` +
        `(the next start applies it again), or \`npm run cli -- db resolve --applied ${migration}\` if all of it is.`,
    );
    this.name = "MigrationNeedsResolveError";
  }
}

export interface Recovered {
  /** Ran to its end, but its end was never recorded: now recorded as applied. */
  applied: string[];
  /** Rolled back whole: now recorded as rolled back, so the schema engine applies it again. */
  rolledBack: string[];
}

/**
 * Before the schema engine refuses to go on ("found failed migrations"), settles every unfinished
 * migration whose fate the marks of migration-scripts.ts prove: its script ran as one transaction
 * (a "begun" mark), and that transaction committed or not (a "committed" mark). Anything else is
 * left for `db resolve`, with an error naming it. Runs under the engine's own advisory lock, so a
 * migration another server is applying right now is waited for, never taken for a dead one.
 */
export async function recoverCutOffMigrations(factory: SqlMigrationAwareDriverAdapterFactory): Promise<Recovered> {
  const recovered: Recovered = { applied: [], rolledBack: [] };
  const adapter = await factory.connect();
  try {
    await adapter.executeRaw({ sql: `SELECT pg_advisory_lock(${PRISMA_MIGRATE_LOCK})`, args: [], argTypes: [] });
    try {
      // Waits for the script of a killed client to end: committed or rolled back, never half.
      await adapter.executeRaw({ sql: `SELECT pg_advisory_lock(${SCRIPT_LOCK})`, args: [], argTypes: [] });
      await adapter.executeRaw({ sql: `SELECT pg_advisory_unlock(${SCRIPT_LOCK})`, args: [], argTypes: [] });
      for (const [id, name, checksum, startedAt] of await rows(
        adapter,
        "SELECT id, migration_name, checksum, started_at::text FROM _prisma_migrations WHERE finished_at IS NULL AND rolled_back_at IS NULL ORDER BY started_at",
      )) {
        const states = await rows(
          adapter,
          `SELECT DISTINCT state FROM "${MARKS_TABLE}" WHERE checksum = ${literal(checksum)} AND at >= ${literal(startedAt)}::timestamptz`,
        );
        const marks = new Set(states.map(([state]) => state));
        if (!marks.has("begun")) throw new MigrationNeedsResolveError(String(name));
        const committed = marks.has("committed");
        await adapter.executeRaw({
          sql: committed
            ? `UPDATE _prisma_migrations SET finished_at = now(), applied_steps_count = 1 WHERE id = ${literal(id)}`
            : `UPDATE _prisma_migrations SET rolled_back_at = now() WHERE id = ${literal(id)}`,
          args: [],
          argTypes: [],
        });
        (committed ? recovered.applied : recovered.rolledBack).push(String(name));
      }
    } finally {
      await adapter.executeRaw({ sql: `SELECT pg_advisory_unlock(${PRISMA_MIGRATE_LOCK})`, args: [], argTypes: [] });
    }
  } finally {
    await adapter.dispose();
  }
  return recovered;
}

/**
 * What `prisma migrate resolve` does, for an operator who checked the database: a failed or cut-off
 * migration recorded as rolled back (applied again at the next start) or as applied.
 */
export async function resolveMigration(
  factory: SqlMigrationAwareDriverAdapterFactory,
  migration: string,
  as: "applied" | "rolled-back",
): Promise<boolean> {
  const adapter = await factory.connect();
  try {
    const changed = await adapter.executeRaw({
      sql:
        as === "applied"
          ? `UPDATE _prisma_migrations SET finished_at = now(), applied_steps_count = 1 WHERE migration_name = ${literal(migration)} AND finished_at IS NULL AND rolled_back_at IS NULL`
          : `UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = ${literal(migration)} AND finished_at IS NULL AND rolled_back_at IS NULL`,
      args: [],
      argTypes: [],
    });
    return changed > 0;
  } finally {
    await adapter.dispose();
  }
}

/** Rows as arrays; none when the table does not exist yet (a new database). */
async function rows(adapter: SqlDriverAdapter, sql: string): Promise<unknown[][]> {
  try {
    return (await adapter.queryRaw({ sql, args: [], argTypes: [] })).rows;
  } catch (error) {
    if (/does not exist/.test(String((error as Error).message) + JSON.stringify(error))) return [];
    throw error;
  }
}

function literal(value: unknown): string {
  return `'${String(value).replaceAll("'", "''")}'`;
}
