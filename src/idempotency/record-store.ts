import type { RawSql } from "../db/database.ts";
import type { TransactionClient } from "../db/transaction.ts";
import type { SealedOutcome } from "./outcome-codec.ts";

/** One idempotency record: a workspace's clientMutationId. */
export interface RecordRef {
  workspaceId: string;
  clientMutationId: string;
}

/** A record's slot in this process' maps (flights, cached outcomes, pending counts). */
export function slotOf(ref: RecordRef): string {
  return `${ref.workspaceId}\u0000${ref.clientMutationId}`;
}

/** What one claim of a key found. */
export type Claim =
  | { kind: "acquired" }
  | { kind: "completed"; fingerprint: string; sealed: SealedOutcome; expiresAt: number }
  | { kind: "in-progress"; fingerprint: string; leaseRemainingMs: number }
  | { kind: "abandoned" }
  | { kind: "expired" };

interface ClaimRow {
  inserted: boolean;
  status: "IN_PROGRESS" | "COMPLETED";
  fingerprint: string;
  outcome: string | null;
  encrypted: boolean;
  lease_remaining_ms: number | null;
  expires_at_ms: number;
  expired: boolean;
}

const INTERVAL_MS = "* interval '1 millisecond'";

/**
 * Reads and writes `idempotency_records`. A key is held by the attempt whose random lease token
 * is on its row; the outcome is written only under that token, so an attempt that outlived its
 * lease can never overwrite the work of the attempt that took over.
 */
export class RecordStore {
  constructor(
    private readonly sql: RawSql,
    private readonly ttlMs: number,
    private readonly leaseMs: number,
  ) {}

  /**
   * Takes a new key for `token`, or reports the record that holds it: one statement, which only
   * writes when the key is new, so a replay is a read.
   */
  async claim(ref: RecordRef, mutation: string, fingerprint: string, token: string): Promise<Claim> {
    for (;;) {
      const { rows } = await this.sql.query<ClaimRow>(
        `WITH claimed AS (
           INSERT INTO idempotency_records
             (workspace_id, client_mutation_id, mutation, fingerprint, status, lease_token, lease_expires_at, created_at, expires_at)
           VALUES ($1::uuid, $2, $3, $4, 'IN_PROGRESS', $5::uuid, now() + $6::int ${INTERVAL_MS}, now(), now() + $7::bigint ${INTERVAL_MS})
           ON CONFLICT (workspace_id, client_mutation_id) DO NOTHING
           RETURNING true AS inserted, status, fingerprint, outcome, encrypted, lease_expires_at, expires_at
         ), found AS (
           SELECT * FROM claimed
           UNION ALL
           SELECT false, status, fingerprint, outcome, encrypted, lease_expires_at, expires_at
           FROM idempotency_records
           WHERE workspace_id = $1::uuid AND client_mutation_id = $2 AND NOT EXISTS (SELECT 1 FROM claimed)
         )
         SELECT inserted, status, fingerprint, outcome, encrypted,
                (extract(epoch FROM lease_expires_at - now()) * 1000)::float8 AS lease_remaining_ms,
                (extract(epoch FROM expires_at) * 1000)::float8 AS expires_at_ms,
                expires_at <= now() AS expired
         FROM found`,
        [ref.workspaceId, ref.clientMutationId, mutation, fingerprint, token, this.leaseMs, this.ttlMs],
        "onceql_claim",
      );
      const row = rows[0];
      // The conflicting row committed after this statement's snapshot was taken: look again.
      if (!row) continue;
      if (row.inserted) return { kind: "acquired" };
      if (row.expired) return { kind: "expired" };
      if (row.status === "COMPLETED") {
        return {
          kind: "completed",
          fingerprint: row.fingerprint,
          sealed: { text: row.outcome ?? "", encrypted: row.encrypted },
          expiresAt: row.expires_at_ms,
        };
      }
      const leaseRemainingMs = Math.max(0, row.lease_remaining_ms ?? 0);
      if (leaseRemainingMs === 0) return { kind: "abandoned" };
      return { kind: "in-progress", fingerprint: row.fingerprint, leaseRemainingMs };
    }
  }

  /** Takes over a key whose holder died (its lease ran out without an outcome); false if someone else did. */
  async takeOver(ref: RecordRef, mutation: string, fingerprint: string, token: string): Promise<boolean> {
    const { rowCount } = await this.sql.query(
      `UPDATE idempotency_records
       SET mutation = $3, fingerprint = $4, lease_token = $5::uuid,
           lease_expires_at = now() + $6::int ${INTERVAL_MS}, created_at = now(), expires_at = now() + $7::bigint ${INTERVAL_MS}
       WHERE workspace_id = $1::uuid AND client_mutation_id = $2 AND status = 'IN_PROGRESS' AND lease_expires_at <= now()`,
      [ref.workspaceId, ref.clientMutationId, mutation, fingerprint, token, this.leaseMs, this.ttlMs],
    );
    return rowCount === 1;
  }

  /** Whether the key is still held by a live attempt (a cheap read for waiting duplicates). */
  async isHeld(ref: RecordRef): Promise<boolean> {
    const { rows } = await this.sql.query<{ held: boolean }>(
      `SELECT status = 'IN_PROGRESS' AND lease_expires_at > now() AS held
       FROM idempotency_records WHERE workspace_id = $1::uuid AND client_mutation_id = $2`,
      [ref.workspaceId, ref.clientMutationId],
      "onceql_is_held",
    );
    return rows[0]?.held ?? false;
  }

  /**
   * Stores the outcome under `token`, durably: inside the mutation's transaction for a payload, so
   * the side effects and the outcome commit together; on its own for a UserError, whose
   * transaction rolled back. Returns when the record expires (epoch ms, the database's clock), or
   * undefined when the attempt no longer holds the key.
   */
  async complete(client: TransactionClient, ref: RecordRef, token: string, sealed: SealedOutcome): Promise<number | undefined> {
    const rows = await client.$queryRaw<{ expires_at_ms: number }[]>`
      UPDATE idempotency_records
      SET status = 'COMPLETED', outcome = ${sealed.text}, encrypted = ${sealed.encrypted},
          completed_at = now(), expires_at = now() + ${this.ttlMs}::bigint * interval '1 millisecond',
          lease_token = NULL, lease_expires_at = NULL
      WHERE workspace_id = ${ref.workspaceId}::uuid AND client_mutation_id = ${ref.clientMutationId}
        AND lease_token = ${token}::uuid AND status = 'IN_PROGRESS'
      RETURNING (extract(epoch FROM expires_at) * 1000)::float8 AS expires_at_ms`;
    return rows[0]?.expires_at_ms;
  }

  /** Frees the key after a failed attempt, so a retry runs afresh. */
  async release(ref: RecordRef, token: string): Promise<void> {
    await this.sql.query(
      `DELETE FROM idempotency_records
       WHERE workspace_id = $1::uuid AND client_mutation_id = $2 AND lease_token = $3::uuid AND status = 'IN_PROGRESS'`,
      [ref.workspaceId, ref.clientMutationId, token],
      "onceql_release",
    );
  }

  /** Adds replays and conflicts counted in memory, many keys in one statement. */
  async addCounts(unordered: { ref: RecordRef; replays: number; conflicts: number }[]): Promise<void> {
    if (unordered.length === 0) return;
    // Rows are locked in this order: the same order on every server, so two flushes cannot deadlock.
    const counts = [...unordered].sort(
      (a, b) => compare(a.ref.workspaceId, b.ref.workspaceId) || compare(a.ref.clientMutationId, b.ref.clientMutationId),
    );
    await this.sql.query(
      `UPDATE idempotency_records r
       SET replay_count = r.replay_count + c.replays, conflict_count = r.conflict_count + c.conflicts
       FROM unnest($1::uuid[], $2::text[], $3::int[], $4::int[]) AS c(workspace_id, client_mutation_id, replays, conflicts)
       WHERE r.workspace_id = c.workspace_id AND r.client_mutation_id = c.client_mutation_id`,
      [
        counts.map((c) => c.ref.workspaceId),
        counts.map((c) => c.ref.clientMutationId),
        counts.map((c) => c.replays),
        counts.map((c) => c.conflicts),
      ],
    );
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
