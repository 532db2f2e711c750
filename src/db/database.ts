import { mkdirSync } from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import type { SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { PrismaClient } from "../generated/prisma/client.ts";
import { lockDataDir } from "./data-dir-lock.ts";

export type DatabaseKind = "pglite" | "postgresql";

/** One open database: the Prisma client plus what migrations and shutdown need. */
export interface Database {
  kind: DatabaseKind;
  prisma: PrismaClient;
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
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.poolSize ?? 10);
  return openPglite(options.dataDir);
}

function openPostgres(connectionString: string, max: number): Database {
  const adapterFactory = new PrismaPg({ connectionString, max, connectionTimeoutMillis: 5_000 });
  const prisma = new PrismaClient({ adapter: adapterFactory });
  return {
    kind: "postgresql",
    prisma,
    adapterFactory,
    close: () => prisma.$disconnect(),
  };
}

async function openPglite(dataDir: string | undefined): Promise<Database> {
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
  const prisma = new PrismaClient({ adapter: adapterFactory });
  return {
    kind: "pglite",
    prisma,
    adapterFactory,
    async close() {
      await prisma.$disconnect();
      await pglite.close();
      await unlock();
    },
  };
}
