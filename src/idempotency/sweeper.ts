import type { PrismaClient } from "../generated/prisma/client.ts";
import type { RecordRef } from "./record-store.ts";

/** Daily counters outlive their records by at least this long (records live at most 72h). */
export const DAILY_STATS_RETENTION_DAYS = 14;

export interface SweepResult {
  records: number;
  dailyStats: number;
}

/**
 * Deletes expired records in batches, rolling each batch into the daily counters in the same
 * statement, so a count is never lost nor added twice. SKIP LOCKED lets several servers sweep at
 * once without waiting on each other or on a key being claimed.
 */
export async function sweepExpired(prisma: PrismaClient, options: { batchSize?: number } = {}): Promise<SweepResult> {
  const batchSize = options.batchSize ?? 1000;
  let records = 0;
  for (;;) {
    const swept = await sweepBatch(prisma, batchSize);
    records += swept;
    if (swept < batchSize) break;
  }
  const dailyStats = await prisma.$executeRaw`
    DELETE FROM idempotency_daily_stats WHERE day < current_date - ${DAILY_STATS_RETENTION_DAYS}::int`;
  return { records, dailyStats };
}

/** Sweeps one key, if it has expired: the first step of running an expired key again. */
export async function sweepKey(prisma: PrismaClient, ref: RecordRef): Promise<void> {
  await sweepBatch(prisma, 1, ref);
}

async function sweepBatch(prisma: PrismaClient, limit: number, only?: RecordRef): Promise<number> {
  const workspaceId = only?.workspaceId ?? null;
  const clientMutationId = only?.clientMutationId ?? null;
  const [row] = await prisma.$queryRaw<{ deleted: number }[]>`
    WITH doomed AS (
      SELECT workspace_id, client_mutation_id FROM idempotency_records
      WHERE expires_at <= now()
        AND (${workspaceId}::uuid IS NULL OR (workspace_id = ${workspaceId}::uuid AND client_mutation_id = ${clientMutationId}::text))
      ORDER BY expires_at
      LIMIT ${limit}::int
      FOR UPDATE SKIP LOCKED
    ), gone AS (
      DELETE FROM idempotency_records r USING doomed d
      WHERE r.workspace_id = d.workspace_id AND r.client_mutation_id = d.client_mutation_id
      RETURNING r.workspace_id, r.mutation, r.status, r.created_at, r.replay_count, r.conflict_count
    ), rolled AS (
      INSERT INTO idempotency_daily_stats AS s (workspace_id, day, mutation, executions, replays, conflicts)
      SELECT workspace_id, (created_at AT TIME ZONE 'UTC')::date, mutation,
             (count(*) FILTER (WHERE status = 'COMPLETED'))::int, sum(replay_count)::int, sum(conflict_count)::int
      FROM gone GROUP BY 1, 2, 3
      ON CONFLICT (workspace_id, day, mutation) DO UPDATE SET
        executions = s.executions + excluded.executions,
        replays = s.replays + excluded.replays,
        conflicts = s.conflicts + excluded.conflicts
    )
    SELECT count(*)::int AS deleted FROM gone`;
  return row?.deleted ?? 0;
}
