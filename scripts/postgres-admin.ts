import pg from "pg";

/**
 * The maintenance database of the PostgreSQL server that tests, the benchmark and the soak make
 * their own databases on: ONCEQL_POSTGRES_ADMIN_URL, or the local server.
 */
export function postgresAdminUrl(): string {
  return process.env.ONCEQL_POSTGRES_ADMIN_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
}

/** The URL of database `name` on that server. */
export function databaseUrlOnAdminServer(name: string): string {
  const url = new URL(postgresAdminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs one statement (CREATE DATABASE, DROP DATABASE ...) on the maintenance database. */
export async function adminSql(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresAdminUrl() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
