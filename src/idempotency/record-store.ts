import type { PrismaClient } from "../generated/prisma/client.ts";
import type { TransactionClient } from "../db/transaction.ts";
import type { SealedOutcome } from "./outcome-codec.ts";

export interface KeyRef {
  workspaceId: string;
  key: string;
}

/** What one claim of a key found, decided by the database in a single statement. */
export type Claim =
  | { kind: "acquired" }
  | { kind: "completed"; sealed: SealedOutcome }
  | { kind: "conflict" }
  | { kind: "in-progress"; leaseRemainingMs: number }
  | { kind: "expired" };

interface ClaimRow {
  status: "IN_PROGRESS" | "COMPLETED";
  fingerprint: string;
  lease_token: string | null;
  outcome: string | null;
  encrypted: boolean;
  lease_remaining_ms: number | null;
  expired: boolean;
}

type Sql = Pick<PrismaClient, "$queryRaw" | "$executeRaw"> | TransactionClient;

/**
 * The one place that reads and writes `idempotency_records`. A key is held by the attempt whose
 * random lease token is on its row; the outcome is written only under that token, so an attempt
 * that outlived its lease can never overwrite the work of the attempt that took over.
 */
export class RecordStore {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly ttlMs: number,
    private readonly leaseMs: number,
  ) {}

  /**
   * Takes the key for `token` when it is free (new, or held by an attempt whose lease ran out);
   * otherwise reports the stored outcome, a conflicting input, or the attempt still running,
   * counting the replay or the conflict on the record in the same statement.
   */
  async claim(ref: KeyRef, mutation: string, fingerprint: string, token: string): Promise<Claim> {
    const [row] = await this.prisma.$queryRaw<ClaimRow[]>`
      INSERT INTO idempotency_records AS r
        (workspace_id, key, mutation, fingerprint, status, lease_token, lease_expires_at, created_at, expires_at)
      VALUES (${ref.workspaceId}::uuid, ${ref.key}, ${mutation}, ${fingerprint}, 'IN_PROGRESS', ${token}::uuid,
              now() + ${this.leaseMs}::int * interval '1 millisecond', now(),
              now() + ${this.ttlMs}::bigint * interval '1 millisecond')
      ON CONFLICT (workspace_id, key) DO UPDATE SET
        mutation         = CASE WHEN r.status = 'IN_PROGRESS' AND r.lease_expires_at <= now() THEN excluded.mutation ELSE r.mutation END,
        fingerprint      = CASE WHEN r.status = 'IN_PROGRESS' AND r.lease_expires_at <= now() THEN excluded.fingerprint ELSE r.fingerprint END,
        lease_token      = CASE WHEN r.status = 'IN_PROGRESS' AND r.lease_expires_at <= now() THEN excluded.lease_token ELSE r.lease_token END,
        lease_expires_at = CASE WHEN r.status = 'IN_PROGRESS' AND r.lease_expires_at <= now() THEN excluded.lease_expires_at ELSE r.lease_expires_at END,
        created_at       = CASE WHEN r.status = 'IN_PROGRESS' AND r.lease_expires_at <= now() THEN excluded.created_at ELSE r.created_at END,
        expires_at       = CASE WHEN r.status = 'IN_PROGRESS' AND r.lease_expires_at <= now() THEN excluded.expires_at ELSE r.expires_at END,
        replay_count     = r.replay_count + CASE
          WHEN r.status = 'COMPLETED' AND r.expires_at > now() AND r.fingerprint = excluded.fingerprint THEN 1 ELSE 0 END,
        conflict_count   = r.conflict_count + CASE
          WHEN r.expires_at > now() AND r.fingerprint <> excluded.fingerprint
           AND NOT (r.status = 'IN_PROGRESS' AND r.lease_expires_at <= now()) THEN 1 ELSE 0 END
      RETURNING status, fingerprint, lease_token::text AS lease_token, outcome, encrypted,
        (extract(epoch FROM lease_expires_at - now()) * 1000)::float8 AS lease_remaining_ms,
        expires_at <= now() AS expired`;
    if (!row) throw new Error("claim returned no row");
    if (row.status === "IN_PROGRESS" && row.lease_token === token) return { kind: "acquired" };
    if (row.expired) return { kind: "expired" };
    if (row.fingerprint !== fingerprint) return { kind: "conflict" };
    if (row.status === "COMPLETED") return { kind: "completed", sealed: { text: row.outcome ?? "", encrypted: row.encrypted } };
    return { kind: "in-progress", leaseRemainingMs: Math.max(0, row.lease_remaining_ms ?? 0) };
  }

  /** Whether the key is still held by a live attempt (a cheap read for waiting duplicates). */
  async isHeld(ref: KeyRef): Promise<boolean> {
    const rows = await this.prisma.$queryRaw<{ held: boolean }[]>`
      SELECT status = 'IN_PROGRESS' AND lease_expires_at > now() AS held
      FROM idempotency_records WHERE workspace_id = ${ref.workspaceId}::uuid AND key = ${ref.key}`;
    return rows[0]?.held ?? false;
  }

  /**
   * Stores the outcome under `token`: inside the mutation's transaction for a payload, so the
   * side effects and the outcome commit together; on its own for a UserError. False when the
   * attempt no longer holds the key.
   */
  async complete(sql: Sql, ref: KeyRef, token: string, sealed: SealedOutcome): Promise<boolean> {
    const updated = await sql.$executeRaw`
      UPDATE idempotency_records
      SET status = 'COMPLETED', outcome = ${sealed.text}, encrypted = ${sealed.encrypted},
          completed_at = now(), expires_at = now() + ${this.ttlMs}::bigint * interval '1 millisecond',
          lease_token = NULL, lease_expires_at = NULL
      WHERE workspace_id = ${ref.workspaceId}::uuid AND key = ${ref.key}
        AND lease_token = ${token}::uuid AND status = 'IN_PROGRESS'`;
    return updated === 1;
  }

  /** Frees the key after a failed attempt, so a retry runs afresh. */
  async release(ref: KeyRef, token: string): Promise<void> {
    await this.prisma.$executeRaw`
      DELETE FROM idempotency_records
      WHERE workspace_id = ${ref.workspaceId}::uuid AND key = ${ref.key}
        AND lease_token = ${token}::uuid AND status = 'IN_PROGRESS'`;
  }

  /** Replays served from this process' memory, counted on the record in one write. */
  async addReplays(ref: KeyRef, count: number): Promise<void> {
    await this.prisma.$executeRaw`
      UPDATE idempotency_records SET replay_count = replay_count + ${count}::int
      WHERE workspace_id = ${ref.workspaceId}::uuid AND key = ${ref.key}`;
  }
}
