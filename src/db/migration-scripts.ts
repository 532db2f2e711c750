import { createHash } from "node:crypto";
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";

/** Runs a script of several statements as one simple query: PostgreSQL then makes it one transaction. */
export type ScriptRunner = (adapter: SqlDriverAdapter, script: string) => Promise<void>;

/**
 * Where a migration's script leaves its mark. "begun" is committed before the script runs;
 * "committed" in the script's own transaction, so it exists exactly when the script's changes do.
 */
export const MARKS_TABLE = "_onceql_migration_scripts";

/**
 * Held by a script's transaction until it commits or rolls back. On PostgreSQL a script goes on
 * running after its client was killed, and may still commit: whoever holds this lock knows no script is.
 */
export const SCRIPT_LOCK = 72707370;

/**
 * The schema engine hands each migration to the adapter's executeScript, and neither adapter runs it
 * as one transaction: @prisma/adapter-pg splits it on ";" and runs each piece on its own (a failure
 * leaves the pieces before it applied; a ";" inside a string or a function body breaks it), and
 * pglite-prisma-adapter does not await it (a failing migration is recorded as applied, and its
 * error ends the process). Here a migration runs as one transaction, between two marks that tell
 * a restart whether a migration cut off by a crash left anything behind (see migration-recovery.ts).
 */
export function atomicScripts(factory: SqlMigrationAwareDriverAdapterFactory, run: ScriptRunner): SqlMigrationAwareDriverAdapterFactory {
  const wrap = (adapter: SqlDriverAdapter): SqlDriverAdapter => {
    const executeScript = async (script: string) => {
      if (!isOneTransaction(script)) return run(adapter, script);
      const checksum = sha256(script);
      await run(
        adapter,
        `CREATE TABLE IF NOT EXISTS "${MARKS_TABLE}" (checksum text NOT NULL, state text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());\n` +
          `INSERT INTO "${MARKS_TABLE}" (checksum, state) VALUES ('${checksum}', 'begun')`,
      );
      await run(
        adapter,
        `SELECT pg_advisory_xact_lock(${SCRIPT_LOCK});\n${script}\n;\nINSERT INTO "${MARKS_TABLE}" (checksum, state) VALUES ('${checksum}', 'committed')`,
      );
    };
    return new Proxy(adapter, {
      get: (target, property, receiver) => (property === "executeScript" ? executeScript : Reflect.get(target, property, receiver)),
    });
  };
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => wrap(await factory.connect()),
    // A shadow database (diff) is thrown away after use: nothing to recover, and no marks to show in its schema.
    connectToShadowDb: () => factory.connectToShadowDb(),
  };
}

/**
 * Whether PostgreSQL runs the script as one transaction: not when it ends or opens transactions of
 * its own. A DO block or function body (BEGIN ... END) is taken for one too: refused, not guessed.
 */
export function isOneTransaction(script: string): boolean {
  const code = script.replace(/--[^\n]*/g, "").replace(/\/\*[\s\S]*?\*\//g, "");
  return !/\b(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|END|START\s+TRANSACTION|CONCURRENTLY|VACUUM)\b/i.test(code);
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
