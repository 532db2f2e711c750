/**
 * A process that applies the migrations of the folder it is given (DATABASE_URL or ONCEQL_DATA_DIR,
 * as the server reads them), and prints "script started" when the schema engine hands a migration's
 * script to the database, so a test can kill it mid-migration.
 */
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import { loadConfig } from "../../src/config.ts";
import { openDatabase } from "../../src/db/database.ts";
import { applyMigrations } from "../../src/db/migrations.ts";

const config = loadConfig();
const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
const told = (adapter: SqlDriverAdapter): SqlDriverAdapter =>
  new Proxy(adapter, {
    get: (target, property, receiver) =>
      property === "executeScript"
        ? (script: string) => {
            console.log("script started");
            return target.executeScript(script);
          }
        : Reflect.get(target, property, receiver),
  });
const factory: SqlMigrationAwareDriverAdapterFactory = {
  provider: db.adapterFactory.provider,
  adapterName: db.adapterFactory.adapterName,
  connect: async () => told(await db.adapterFactory.connect()),
  connectToShadowDb: async () => told(await db.adapterFactory.connectToShadowDb()),
};
const applied = await applyMigrations(factory, { migrationsDir: process.argv[2] });
console.log(`applied ${JSON.stringify(applied)}`);
await db.close();
process.exit(0);
