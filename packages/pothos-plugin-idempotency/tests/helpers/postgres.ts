import { randomBytes } from "node:crypto";
import pg from "pg";

/**
 * The PostgreSQL server the package's tests make their databases on (ONCEQL_POSTGRES_ADMIN_URL,
 * or the local one). PostgreSQL is where real parallel races happen, so its tests never pass
 * silently: in CI (or with ONCEQL_REQUIRE_POSTGRES=1) an unreachable server fails them; elsewhere
 * they are skipped, and the run says so loudly.
 */
export const adminUrl = process.env.ONCEQL_POSTGRES_ADMIN_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

export const postgresRequired = process.env.CI === "true" || process.env.ONCEQL_REQUIRE_POSTGRES === "1";

async function probe(): Promise<boolean> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch (error) {
    const message = `PostgreSQL at ${adminUrl} is unreachable (${error instanceof Error ? error.message : String(error)})`;
    if (postgresRequired) throw new Error(`${message}; the PostgreSQL tests are required here (CI).`);
    console.warn(`\n*** ${message}: the plugin's PostgreSQL tests are SKIPPED. They run in CI. ***\n`);
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Whether PostgreSQL tests run here (asked once per test file). */
export const postgresAvailable: boolean = await probe();

async function adminSql(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A fresh, empty database of its own on that server, with a random name; dropped by `drop()`. */
export async function createPostgresDatabase(): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `onceql_plugin_test_${randomBytes(6).toString("hex")}`;
  await adminSql(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { name, url: url.toString(), drop: () => adminSql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
