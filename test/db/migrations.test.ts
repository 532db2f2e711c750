import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/db/database.ts";
import { applyMigrations, diffMigrations, migrationsDir } from "../../src/db/migrations.ts";
import { pgliteDatabase } from "../helpers/databases.ts";

let db: Database;
beforeAll(async () => {
  db = await pgliteDatabase();
});
afterAll(() => db.close());

describe("migrations", () => {
  it("prisma/migrations already produce schema.prisma (run npm run db:diff after a schema change)", async () => {
    expect(await diffMigrations(db.adapterFactory)).toBeUndefined();
  });

  it("are recorded in _prisma_migrations as prisma migrate deploy records them, and apply once", async () => {
    const names = readdirSync(migrationsDir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
    const rows = await db.prisma.$queryRaw<
      { migration_name: string; checksum: string; finished_at: Date | null; rolled_back_at: Date | null }[]
    >`
      SELECT migration_name, checksum, finished_at, rolled_back_at FROM _prisma_migrations ORDER BY migration_name`;
    expect(rows.map((row) => row.migration_name)).toEqual(names);
    for (const row of rows) {
      const sql = readFileSync(path.join(migrationsDir, row.migration_name, "migration.sql"));
      expect(row.checksum).toBe(createHash("sha256").update(sql).digest("hex"));
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.rolled_back_at).toBeNull();
    }
    expect(await applyMigrations(db.adapterFactory)).toEqual([]);
  });
});
