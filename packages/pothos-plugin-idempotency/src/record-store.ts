import { sqlState } from "./database-errors.ts";
import type { IdempotencyDriver, OpenTransaction, ScriptResult, Statement } from "./driver.ts";
import type { SealedOutcome } from "./outcome-codec.ts";

/** One idempotency record: a clientMutationId of one scope (a tenant, a workspace: whose keys these are). */
export interface RecordRef {
  scope: string;
  clientMutationId: string;
}

/** A record's slot in this process' maps (flights, cached outcomes, pending counts). */
export function slotOf(ref: RecordRef): string {
  return `${ref.scope}\u0000${ref.clientMutationId}`;
}

/**
 * Where the records live. The defaults are the tables `ensureSchema()` creates (and
 * `sql/schema.sql` holds); an application with tables of its own names them here.
 */
export interface TableLayout {
  /** The records: one row per key, written once with the outcome. */
  records: string;
  /** Daily counters of executions, replays and conflicts, rolled up as records are swept. */
  dailyStats: string;
  /** The column of both that holds the scope. */
  scopeColumn: string;
  /** Its SQL type: `text`, or `uuid` for scopes that are UUIDs. */
  scopeType: "text" | "uuid";
  /**
   * A column of leases left by claims that committed before their outcome (an earlier design): a
   * record IN_PROGRESS under a live lease is still held. None in tables made by `ensureSchema()`.
   */
  leaseColumn?: string;
}

export const DEFAULT_TABLES: TableLayout = {
  records: "onceql_idempotency_records",
  dailyStats: "onceql_idempotency_daily_stats",
  scopeColumn: "scope",
  scopeType: "text",
};

/** Daily counters outlive their records by at least this long (records live at most 72h). */
export const DAILY_STATS_RETENTION_DAYS = 14;

export interface SweepResult {
  records: number;
  dailyStats: number;
}

/** The tables `ensureSchema()` creates, as SQL (sql/schema.sql is this, for the default names). */
export function schemaSql(layout: TableLayout = DEFAULT_TABLES): string {
  const { records, dailyStats, scopeColumn: scope, scopeType } = layout;
  return `CREATE TABLE IF NOT EXISTS ${records} (
  ${scope} ${scopeType} NOT NULL,
  client_mutation_id text NOT NULL,
  mutation text NOT NULL,
  fingerprint text NOT NULL,
  status text NOT NULL CHECK (status IN ('IN_PROGRESS', 'COMPLETED')),
  outcome text,
  input text,
  encrypted boolean NOT NULL DEFAULT false,
  replay_count integer NOT NULL DEFAULT 0,
  conflict_count integer NOT NULL DEFAULT 0,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  completed_at timestamptz(3),
  expires_at timestamptz(3) NOT NULL,
  PRIMARY KEY (${scope}, client_mutation_id)
);
CREATE INDEX IF NOT EXISTS ${records}_expires_at_idx ON ${records} (expires_at);
CREATE TABLE IF NOT EXISTS ${dailyStats} (
  ${scope} ${scopeType} NOT NULL,
  day date NOT NULL,
  mutation text NOT NULL,
  executions integer NOT NULL DEFAULT 0,
  replays integer NOT NULL DEFAULT 0,
  conflicts integer NOT NULL DEFAULT 0,
  PRIMARY KEY (${scope}, day, mutation)
);
CREATE INDEX IF NOT EXISTS ${dailyStats}_day_idx ON ${dailyStats} (day);
`;
}

/** What a claim found under the key, once the key was this attempt's to run. */
export type Claim =
  | { kind: "new" }
  | { kind: "completed"; mutation: string; fingerprint: string; sealed: SealedOutcome; input: SealedOutcome | null; expiresAt: number }
  /** Expired, or a claim an earlier version of onceql committed and left: to clear, then run again. */
  | { kind: "stale" }
  /**
   * Another attempt, with the same input, held the key for all of lock_timeout
   * (ONCEQL_IDEMPOTENCY_WAIT_MS); or a claim an earlier version committed, whose holder may still run.
   */
  | { kind: "held" }
  /** Another attempt, with another input, holds the key right now. */
  | { kind: "conflicting"; mutation: string };

interface RecordRow {
  status: "IN_PROGRESS" | "COMPLETED";
  mutation: string;
  fingerprint: string;
  outcome: string | null;
  encrypted: boolean;
  input: string | null;
  expires_at_ms: number;
  expired: boolean;
  lease_alive: boolean;
}

/** Characters of the input's fingerprint a session in flight shows (its name holds 63 at most). */
const PREFIX = 16;

function sessionName(mutation: string, fingerprint: string): string {
  return `onceql:${mutation}:${fingerprint.slice(0, PREFIX)}`;
}

function parseSessionName(name: string): { mutation: string; fingerprintPrefix: string } | undefined {
  const match = /^onceql:([A-Za-z0-9_]+):([0-9a-f]+)$/.exec(name);
  return match ? { mutation: match[1]!, fingerprintPrefix: match[2]! } : undefined;
}

/** The session holding a key's advisory lock, with its name and when its transaction began. */
function holderQuery(lock: string): string {
  return `WITH key AS (SELECT ${lock} AS h)
    SELECT a.application_name, a.xact_start
    FROM key, pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
      AND l.classid = ((key.h >> 32) & 4294967295)::oid AND l.objid = (key.h & 4294967295)::oid
    LIMIT 1`;
}

/** What `tryAndRead` found, when it took the key's lock; undefined when another session holds it. */
function claimIfLocked(answer: ScriptResult): Claim | undefined {
  return answer[0]?.[0]?.locked ? claimOf(answer[1]?.[0] as unknown as RecordRow | undefined) : undefined;
}

function claimOf(row: RecordRow | undefined): Claim {
  if (!row) return { kind: "new" };
  if (row.expired) return { kind: "stale" };
  if (row.status === "IN_PROGRESS") return row.lease_alive ? { kind: "held" } : { kind: "stale" };
  return {
    kind: "completed",
    mutation: row.mutation,
    fingerprint: row.fingerprint,
    sealed: { text: row.outcome ?? "", encrypted: row.encrypted },
    input: row.input === null ? null : { text: row.input, encrypted: row.encrypted },
    expiresAt: Number(row.expires_at_ms),
  };
}

/** Where the key's advisory lock lives: a 64-bit hash of the workspace and the key. */
const lockText = (ref: RecordRef) => `${ref.scope}:${ref.clientMutationId}`;

/** The statements of one table layout. */
function statementsFor(layout: TableLayout) {
  const { records, dailyStats, scopeColumn: scope, scopeType } = layout;
  const lease = layout.leaseColumn ? `coalesce(${layout.leaseColumn} > now(), false)` : "false";
  /** Names the session (what a duplicate and `running` see of the attempt), and takes the key's lock if it is free. */
  const TRY_LOCK: Statement = {
    name: "onceql_try_lock",
    params: ["text", "text"],
    // What it found is kept for the transaction (`onceql.claimed`), for the guard to read.
    sql: `SELECT set_config('application_name', $1, true) AS session,
          set_config('onceql.claimed', pg_try_advisory_xact_lock(hashtextextended($2, 0))::text, true)::boolean AS locked`,
  };
  /**
   * Fails unless this transaction took the key's lock and no record is under it: it guards the
   * statements sent behind a claim before its answer (see claimAhead). A statement of its own,
   * after the lock is taken, so that it reads with a fresh snapshot. (The failure is a cast of a
   * value computed at run time: plain SQL has no RAISE.)
   */
  const GUARD: Statement = {
    name: "onceql_guard",
    params: [scopeType, "text"],
    sql: `SELECT (CASE WHEN current_setting('onceql.claimed', true) = 'true'
            AND NOT EXISTS (SELECT 1 FROM ${records} WHERE ${scope} = $1 AND client_mutation_id = $2)
          THEN NULL ELSE 'onceql: the key is not free' END)::int AS free`,
  };

  /** Waits for the key's lock (at most the session's lock_timeout). */
  const LOCK: Statement = {
    name: "onceql_lock",
    params: ["text"],
    sql: "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
  };
  /** The record under a key, read after its lock is held (a statement of its own: a fresh snapshot). */
  const READ: Statement = {
    name: "onceql_read",
    params: [scopeType, "text"],
    sql: `SELECT status, mutation, fingerprint, outcome, encrypted, input,
          (extract(epoch FROM expires_at) * 1000)::float8 AS expires_at_ms,
          expires_at <= now() AS expired,
          ${lease} AS lease_alive
        FROM ${records} WHERE ${scope} = $1 AND client_mutation_id = $2`,
  };
  /** The completed record, written once with the outcome; nothing when one appeared meanwhile. */
  const COMPLETE: Statement = {
    name: "onceql_complete",
    params: [scopeType, "text", "text", "text", "text", "boolean", "text", "bigint"],
    sql: `INSERT INTO ${records}
          (${scope}, client_mutation_id, mutation, fingerprint, status, outcome, encrypted, input, created_at, completed_at, expires_at)
        VALUES ($1, $2, $3, $4, 'COMPLETED', $5, $6, $7, transaction_timestamp(), now(), now() + $8 * interval '1 millisecond')
        ON CONFLICT (${scope}, client_mutation_id) DO NOTHING
        RETURNING (extract(epoch FROM expires_at) * 1000)::float8 AS expires_at_ms`,
  };
  /**
   * Deletes expired records, `$1` at most (or the one key `$2`, `$3`), rolling them into the daily
   * counters in the same statement, so a count is never lost nor added twice. SKIP LOCKED lets
   * several servers sweep at once without waiting on each other or on a key being claimed.
   */
  const SWEEP: Statement = {
    name: "onceql_sweep",
    params: ["int", scopeType, "text"],
    sql: `WITH doomed AS (
      SELECT ${scope}, client_mutation_id FROM ${records}
      WHERE expires_at <= now() AND ($2::${scopeType} IS NULL OR (${scope} = $2::${scopeType} AND client_mutation_id = $3::text))
      ORDER BY expires_at
      LIMIT $1::int
      FOR UPDATE SKIP LOCKED
    ), gone AS (
      DELETE FROM ${records} r USING doomed d
      WHERE r.${scope} = d.${scope} AND r.client_mutation_id = d.client_mutation_id
      RETURNING r.${scope}, r.mutation, r.status, r.created_at, r.replay_count, r.conflict_count
    ), rolled AS (
      INSERT INTO ${dailyStats} AS s (${scope}, day, mutation, executions, replays, conflicts)
      SELECT ${scope}, (created_at AT TIME ZONE 'UTC')::date, mutation,
             (count(*) FILTER (WHERE status = 'COMPLETED'))::int, sum(replay_count)::int, sum(conflict_count)::int
      FROM gone GROUP BY 1, 2, 3
      ON CONFLICT (${scope}, day, mutation) DO UPDATE SET
        executions = s.executions + excluded.executions,
        replays = s.replays + excluded.replays,
        conflicts = s.conflicts + excluded.conflicts
    )
    SELECT count(*)::int AS deleted FROM gone`,
  };
  const ADD_COUNTS = `UPDATE ${records} r
       SET replay_count = r.replay_count + c.replays, conflict_count = r.conflict_count + c.conflicts
       FROM unnest($1::${scopeType}[], $2::text[], $3::int[], $4::int[]) AS c(${scope}, client_mutation_id, replays, conflicts)
       WHERE r.${scope} = c.${scope} AND r.client_mutation_id = c.client_mutation_id`;
  const DROP_OLD_STATS = `DELETE FROM ${dailyStats} WHERE day < current_date - $1::int`;
  return { TRY_LOCK, LOCK, READ, GUARD, COMPLETE, SWEEP, ADD_COUNTS, DROP_OLD_STATS };
}

/**
 * Reads and writes the records, inside the transaction of the attempt that runs the
 * mutation. The key is taken with a transaction-scoped advisory lock: a duplicate, on any server,
 * waits on that lock (up to the session's lock_timeout, then IDEMPOTENCY_KEY_IN_USE) rather than
 * polling, and the database itself releases it when the attempt commits, rolls back, or its
 * connection dies (a crash: the next retry runs at once). The record is written once, completed,
 * with the outcome, in the same commit as the mutation's effects.
 */
export class RecordStore {
  private readonly statements: ReturnType<typeof statementsFor>;

  constructor(
    private readonly driver: Pick<IdempotencyDriver, "query">,
    private readonly ttlMs: number,
    readonly layout: TableLayout = DEFAULT_TABLES,
  ) {
    for (const name of [layout.records, layout.dailyStats, layout.scopeColumn, layout.leaseColumn ?? "x"]) {
      if (!/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/.test(name)) throw new Error(`not a plain SQL name: ${name}`);
    }
    this.statements = statementsFor(layout);
  }

  /**
   * Takes the key for this attempt, and says what the record under it holds. One round trip when
   * nobody holds the key: names the session after the mutation and a prefix of the input's
   * fingerprint (what `idempotencyRecord` and a conflicting duplicate see of an attempt in
   * flight), takes the key's lock, reads the record under it with a fresh snapshot, and sets the
   * savepoint an answering UserError rolls back to. When another attempt holds the key: one with
   * another input is refused at once; one with the same input is waited for, on its lock.
   */
  async claim(t: OpenTransaction, ref: RecordRef, mutation: string, fingerprint: string): Promise<Claim> {
    const { LOCK, READ } = this.statements;
    const key = lockText(ref);
    const first = await t.send(`${this.tryAndRead(t, ref, mutation, fingerprint)};\nSAVEPOINT onceql_mutation`);
    const locked = claimIfLocked(first);
    if (locked) return locked;
    const holder = (await t.send(holderQuery(`hashtextextended(${t.literal(key)}, 0)`)))[0]?.[0] as
      | { application_name: string }
      | undefined;
    const held = holder && parseSessionName(holder.application_name);
    if (held && held.fingerprintPrefix !== fingerprint.slice(0, PREFIX)) return { kind: "conflicting", mutation: held.mutation };
    // Waits for the holder (at most the session's lock_timeout), then reads what it left. Two round
    // trips, so that only the wait on the key's own lock is answered as the key being in use; a
    // lock timeout of the read (a locked table) is the database's.
    try {
      await t.send(t.call(LOCK, [key]));
    } catch (error) {
      if (sqlState(error) === "55P03") return { kind: "held" };
      throw error;
    }
    const waited = await t.send(t.call(READ, [ref.scope, ref.clientMutationId]));
    return claimOf(waited[0]?.[0] as unknown as RecordRow | undefined);
  }

  /**
   * The claim, sent so that the mutation's first statement can go out behind it before it answers
   * (one round trip fewer), when the driver pipelines. It is the first round trip's claim, and a
   * guard behind it: a claim that finds the key taken or a record under it aborts the transaction
   * there, so nothing sent behind runs. Answers "new" when the key is this attempt's; anything else,
   * the transaction must be rolled back (a record found is still told, for a replay).
   */
  claimAhead(t: OpenTransaction, ref: RecordRef, mutation: string, fingerprint: string): Promise<Claim | { kind: "taken" }> | undefined {
    const sendAhead = t.sendAhead;
    if (!sendAhead) return undefined;
    const script = this.tryAndRead(t, ref, mutation, fingerprint);
    const guard = `${t.call(this.statements.GUARD, [ref.scope, ref.clientMutationId])};\nSAVEPOINT onceql_mutation`;
    const [claimed, guarded] = sendAhead.call(t, script, guard);
    // The guard fails whenever the claim did not find the key free: that failure is expected.
    const passed = guarded.then(
      () => true,
      (error: unknown) => error,
    );
    return claimed.then(async (first) => {
      const claim: Claim | { kind: "taken" } = claimIfLocked(first) ?? { kind: "taken" };
      const guard = await passed;
      if (claim.kind === "new" && guard !== true) throw guard;
      return claim;
    });
  }

  /**
   * The claim's first statements: name the session after the mutation and a prefix of the
   * input's fingerprint, try the key's lock, then read the record under the key (a statement of
   * its own: a fresh snapshot, taken once the lock is held). See claimIfLocked for their answer.
   */
  private tryAndRead(t: OpenTransaction, ref: RecordRef, mutation: string, fingerprint: string): string {
    const { TRY_LOCK, READ } = this.statements;
    return `${t.call(TRY_LOCK, [sessionName(mutation, fingerprint), lockText(ref)])};\n${t.call(READ, [ref.scope, ref.clientMutationId])}`;
  }

  /**
   * Stores the outcome and commits, one round trip: after rolling the mutation's effects back to
   * `rollbackTo` when the outcome is a UserError. Returns when the record expires (epoch ms, the
   * database's clock), or undefined when a record appeared meanwhile (written by an earlier
   * version of onceql, which takes no lock): then nothing is committed.
   */
  async complete(
    t: OpenTransaction,
    ref: RecordRef,
    record: { mutation: string; fingerprint: string; sealed: SealedOutcome; input: SealedOutcome; rollbackTo?: string },
  ): Promise<number | undefined> {
    const rollback = record.rollbackTo ? `ROLLBACK TO SAVEPOINT ${record.rollbackTo};\n` : "";
    const insert = t.call(this.statements.COMPLETE, [
      ref.scope,
      ref.clientMutationId,
      record.mutation,
      record.fingerprint,
      record.sealed.text,
      record.sealed.encrypted,
      record.input.text,
      Math.round(this.ttlMs),
    ]);
    const results = await t.commit(`${rollback}${insert}`);
    const row = results[rollback ? 1 : 0]?.[0] as { expires_at_ms: number } | undefined;
    return row === undefined ? undefined : Number(row.expires_at_ms);
  }

  /**
   * Whether an attempt at the key is running now, on any server sharing the database: the
   * session that holds its lock, named after its mutation. (Its claim is not committed until it
   * completes, so it has no row to read.) PostgreSQL only: on PGlite every attempt is this process'.
   */
  async running(ref: RecordRef): Promise<{ mutation: string; startedAt: Date } | undefined> {
    const { rows } = await this.driver.query<{ application_name: string; xact_start: Date }>(
      holderQuery("hashtextextended($1 || ':' || $2, 0)"),
      [ref.scope, ref.clientMutationId],
    );
    const held = rows[0] && parseSessionName(rows[0].application_name);
    return held && { mutation: held.mutation, startedAt: rows[0]!.xact_start };
  }

  /** Adds replays and conflicts counted in memory, many keys in one statement. */
  async addCounts(unordered: { ref: RecordRef; replays: number; conflicts: number }[]): Promise<void> {
    if (unordered.length === 0) return;
    // Rows are locked in this order: the same order on every server, so two flushes cannot deadlock.
    const counts = [...unordered].sort(
      (a, b) => compare(a.ref.scope, b.ref.scope) || compare(a.ref.clientMutationId, b.ref.clientMutationId),
    );
    await this.driver.query(this.statements.ADD_COUNTS, [
      counts.map((c) => c.ref.scope),
      counts.map((c) => c.ref.clientMutationId),
      counts.map((c) => c.replays),
      counts.map((c) => c.conflicts),
    ]);
  }

  /** Sweeps the one key, if it has expired, in the attempt's transaction: the first step of running an expired key again. */
  async sweepKey(t: OpenTransaction, ref: RecordRef): Promise<void> {
    await t.send(t.call(this.statements.SWEEP, [1, ref.scope, ref.clientMutationId]));
  }

  /** Deletes expired records in batches (each rolled into the daily counters), then counters past their retention. */
  async sweepExpired(options: { batchSize?: number } = {}): Promise<SweepResult> {
    const batchSize = options.batchSize ?? 1000;
    let records = 0;
    for (;;) {
      // Its values cast in its text: the same statement runs prepared in an attempt and plain here.
      const { rows } = await this.driver.query<{ deleted: number }>(this.statements.SWEEP.sql, [batchSize, null, null]);
      const swept = Number(rows[0]?.deleted ?? 0);
      records += swept;
      if (swept < batchSize) break;
    }
    const { rows } = await this.driver.query<{ n: number }>(
      `WITH gone AS (${this.statements.DROP_OLD_STATS} RETURNING 1) SELECT count(*)::int AS n FROM gone`,
      [DAILY_STATS_RETENTION_DAYS],
    );
    return { records, dailyStats: Number(rows[0]?.n ?? 0) };
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
