import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { spawnEntry } from "../../scripts/fleet.ts";
import { type Database, openDatabase } from "../../src/db/database.ts";
import { MigrationNeedsResolveError, resolveMigration } from "../../src/db/migration-recovery.ts";
import { applyMigrations, migrationsDir } from "../../src/db/migrations.ts";
import { createPostgresDatabase, postgresAvailable } from "../helpers/databases.ts";

const folders: string[] = [];
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});
const temporary = (prefix: string) => {
  const folder = mkdtempSync(path.join(tmpdir(), prefix));
  folders.push(folder);
  return folder;
};

/** The project's migrations and one more, `sql`, as the newest. */
function migrationsWith(name: string, sql: string): string {
  const dir = temporary("onceql-migrations-");
  cpSync(migrationsDir, dir, { recursive: true });
  mkdirSync(path.join(dir, name));
  writeFileSync(path.join(dir, name, "migration.sql"), sql);
  return dir;
}

interface Engine {
  /** The environment of a process on this database, and how to open it here. */
  env: Record<string, string>;
  open(): Promise<Database>;
  drop(): Promise<void>;
}

const engines: [string, () => Promise<Engine>][] = [
  [
    "pglite",
    async () => {
      const dataDir = temporary("onceql-data-");
      const open = () => openDatabase({ dataDir });
      const db = await open();
      await applyMigrations(db.adapterFactory);
      await db.close();
      return { env: { ONCEQL_DATA_DIR: dataDir }, open, drop: async () => {} };
    },
  ],
  [
    "postgresql",
    async () => {
      const { url, drop } = await createPostgresDatabase();
      return { env: { DATABASE_URL: url }, open: () => openDatabase({ databaseUrl: url, poolSize: 2 }), drop };
    },
  ],
];

const rowsOf = (db: Database, name: string) =>
  db.prisma.$queryRawUnsafe<{ finished: boolean; rolled_back: boolean }[]>(
    `SELECT finished_at IS NOT NULL AS finished, rolled_back_at IS NOT NULL AS rolled_back
     FROM _prisma_migrations WHERE migration_name = $1 ORDER BY started_at`,
    name,
  );
const tableExists = async (db: Database, table: string) =>
  (await db.prisma.$queryRawUnsafe<{ found: boolean }[]>(`SELECT to_regclass($1) IS NOT NULL AS found`, `"${table}"`))[0]!.found;

describe.each(engines)("a migration on %s", (kind, makeEngine) => {
  const skip = kind === "postgresql" && !postgresAvailable();

  it.skipIf(skip)(
    "that fails leaves nothing behind, and is applied again at the next start",
    async () => {
      const engine = await makeEngine();
      const name = "20991231000000_fails_once";
      // Fails while the table "go" is empty: the test fills it between the two starts.
      const dir = migrationsWith(name, 'CREATE TABLE "half_made" ("id" INTEGER);\nSELECT 1 / (SELECT count(*)::int FROM "go");\n');
      const db = await engine.open();
      try {
        await db.prisma.$executeRawUnsafe('CREATE TABLE "go" ("id" INTEGER)');
        await expect(applyMigrations(db.adapterFactory, { migrationsDir: dir })).rejects.toThrow(/division by zero/);
        expect(await tableExists(db, "half_made")).toBe(false);
        expect(await rowsOf(db, name)).toEqual([{ finished: false, rolled_back: false }]);

        await db.prisma.$executeRawUnsafe('INSERT INTO "go" VALUES (1)');
        expect(await applyMigrations(db.adapterFactory, { migrationsDir: dir })).toEqual([name]);
        expect(await tableExists(db, "half_made")).toBe(true);
        expect(await rowsOf(db, name)).toEqual([
          { finished: false, rolled_back: true },
          { finished: true, rolled_back: false },
        ]);
      } finally {
        await db.close();
        await engine.drop();
      }
    },
    120_000,
  );

  it.skipIf(skip)(
    "cut off by SIGKILL is settled at the next start",
    async () => {
      const engine = await makeEngine();
      const name = "20991231000000_slow";
      const dir = migrationsWith(name, 'CREATE TABLE "slow_made" ("id" INTEGER);\nSELECT pg_sleep(4);\n');
      const child = spawnEntry("test/helpers/migrate-entry.ts", [dir], engine.env);
      const deadline = Date.now() + 60_000;
      while (!child.output().includes("script started")) {
        if (child.child.exitCode !== null || Date.now() > deadline) throw new Error(`no migration started:\n${child.output()}`);
        await sleep(25);
      }
      await sleep(1_000);
      child.child.kill("SIGKILL");
      await child.exited;
      const db = await engine.open();
      try {
        // PostgreSQL runs the killed client's script to its end and commits it (recorded as applied);
        // PGlite died with it (rolled back, then applied again).
        await applyMigrations(db.adapterFactory, { migrationsDir: dir });
        expect(await tableExists(db, "slow_made")).toBe(true);
        const rows = await rowsOf(db, name);
        expect(rows.filter((row) => row.finished && !row.rolled_back)).toHaveLength(1);
        expect(rows.every((row) => row.finished || row.rolled_back)).toBe(true);
      } finally {
        await db.close();
        await engine.drop();
      }
    },
    120_000,
  );

  it.skipIf(skip)(
    "left unfinished with no proof of what it did is refused, naming db resolve, until resolved",
    async () => {
      const engine = await makeEngine();
      const name = "20991231000000_unknown";
      const dir = migrationsWith(name, 'CREATE TABLE "unknown_made" ("id" INTEGER);\n');
      const db = await engine.open();
      try {
        // As an older onceql, or prisma migrate deploy, leaves one it was cut off in.
        await db.prisma.$executeRawUnsafe(
          `INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, applied_steps_count)
         VALUES (gen_random_uuid()::text, 'x', $1, now(), 0)`,
          name,
        );
        const refused = applyMigrations(db.adapterFactory, { migrationsDir: dir });
        await expect(refused).rejects.toThrow(MigrationNeedsResolveError);
        await expect(applyMigrations(db.adapterFactory, { migrationsDir: dir })).rejects.toThrow(
          `npm run cli -- db resolve --rolled-back ${name}`,
        );
        expect(await resolveMigration(db.adapterFactory, name, "rolled-back")).toBe(true);
        expect(await applyMigrations(db.adapterFactory, { migrationsDir: dir })).toEqual([name]);
        expect(await tableExists(db, "unknown_made")).toBe(true);
      } finally {
        await db.close();
        await engine.drop();
      }
    },
    120_000,
  );
});
