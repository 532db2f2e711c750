import pg from "pg";
import type { TestProject } from "vitest/node";
import { ensureBuilt } from "../../scripts/ensure-built.mjs";
import { postgresAdminUrl, postgresRequired } from "./postgres-url.ts";

declare module "vitest" {
  export interface ProvidedContext {
    postgresAvailable: boolean;
  }
}

/**
 * PostgreSQL is where real parallel races happen, so its tests must never pass silently: in CI
 * (or with ONCEQL_REQUIRE_POSTGRES=1) an unreachable server fails the run; elsewhere its tests
 * are skipped, and the run says so loudly.
 */
export default async function setup(project: TestProject): Promise<void> {
  // The tests that spawn a server, the CLI or the issuer simulator run them from dist/, as npm start
  // does: built here, once, before any test file, whenever dist/ is missing or older than its sources.
  ensureBuilt();
  const client = new pg.Client({ connectionString: postgresAdminUrl(), connectionTimeoutMillis: 3_000 });
  let available = false;
  let reason = "";
  try {
    await client.connect();
    await client.query("SELECT 1");
    available = true;
  } catch (error) {
    reason = error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => {});
  }
  if (!available) {
    const message = `PostgreSQL at ${postgresAdminUrl()} is unreachable (${reason})`;
    if (postgresRequired()) throw new Error(`${message}; the PostgreSQL tests are required here (CI).`);
    console.warn(`\n*** ${message}: PostgreSQL tests are SKIPPED. They run in CI. ***\n`);
  }
  project.provide("postgresAvailable", available);
}
