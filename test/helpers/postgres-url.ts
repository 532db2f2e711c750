export { postgresAdminUrl } from "../../scripts/postgres-admin.ts";

export function postgresRequired(): boolean {
  return process.env.CI === "true" || process.env.ONCEQL_REQUIRE_POSTGRES === "1";
}
