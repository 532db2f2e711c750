import pg from "pg";

/** Runs one statement (CREATE DATABASE, DROP DATABASE ...) on a server's maintenance database. */
export async function adminSql(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
