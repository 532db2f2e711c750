import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import { adminSql, databaseUrlOnAdminServer } from "../../scripts/postgres-admin.ts";
import { type Database, openDatabase } from "../../src/db/database.ts";
import { applyMigrations } from "../../src/db/migrations.ts";

/** Whether PostgreSQL tests run here (global setup already failed the run where they must). */
export const postgresAvailable = (): boolean => inject("postgresAvailable");

/** A migrated embedded database in memory, gone when closed; `onQuery` hears every statement. */
export async function pgliteDatabase(options: { onQuery?: (sql: string) => void } = {}): Promise<Database> {
  const db = await openDatabase({ onQuery: options.onQuery });
  await applyMigrations(db.adapterFactory);
  return db;
}

/** A fresh PostgreSQL database of its own, migrated; dropped by `drop()`. */
export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `onceql_test_${randomBytes(6).toString("hex")}`;
  await adminSql(`CREATE DATABASE ${name}`);
  const url = databaseUrlOnAdminServer(name);
  const db = await openDatabase({ databaseUrl: url, poolSize: 2 });
  try {
    await applyMigrations(db.adapterFactory);
  } finally {
    await db.close();
  }
  return { url, drop: () => adminSql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
