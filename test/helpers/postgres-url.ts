/** The maintenance database on the PostgreSQL server the tests use; each test file makes its own database there. */
export function postgresAdminUrl(): string {
  return process.env.ONCEQL_TEST_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
}

export function postgresRequired(): boolean {
  return process.env.CI === "true" || process.env.ONCEQL_REQUIRE_POSTGRES === "1";
}

export function databaseUrl(name: string): string {
  const url = new URL(postgresAdminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}
