import { createIdempotency, type Idempotency, type IdempotencyOptions } from "@onceql/pothos-plugin-idempotency";
import superjson from "superjson";
import { attemptLimits, type Config } from "../config.ts";
import type { Database } from "../db/database.ts";

/** onceql's own tables (migrated by Prisma), keyed by workspace. */
const TABLES = {
  records: "idempotency_records",
  dailyStats: "idempotency_daily_stats",
  scopeColumn: "workspace_id",
  scopeType: "uuid",
  leaseColumn: "lease_expires_at",
} as const;

/** The exactly-once runner over the app's database, with the server's settings. */
export function idempotencyOf(
  db: Database,
  config: Pick<
    Config,
    | "idempotencyTtlMs"
    | "idempotencyWaitMs"
    | "idempotencyLeaseMs"
    | "dbReadReserve"
    | "attemptsPerWorkspace"
    | "outsideAttempts"
    | "attemptQueueMs"
  >,
  options: Omit<IdempotencyOptions, "driver" | "ttl" | "waitMs" | "leaseMs" | "tables" | "concurrency"> = {},
): Idempotency {
  return createIdempotency({
    driver: db.idempotencyDriver,
    ttl: config.idempotencyTtlMs,
    waitMs: config.idempotencyWaitMs,
    leaseMs: config.idempotencyLeaseMs,
    tables: TABLES,
    // Keyed by workspace (the builder's scope): no workspace's attempts hold every connection.
    concurrency: attemptLimits(config, db.poolSize),
    // Outcomes stored before typed JSON (2026-11-23) are superjson, and still replay until they expire.
    decodeLegacy: (text) => superjson.parse(text),
    ...options,
  });
}
