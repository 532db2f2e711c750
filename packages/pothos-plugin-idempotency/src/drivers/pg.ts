import type pg from "pg";
import { attemptSettings, type IdempotencyDriver, type PgPoolClient, PgScriptTransaction } from "../driver.ts";
import { assertNodePostgresPool } from "../engines.ts";
import { DatabaseContinuity } from "./continuity.ts";

export { DatabaseContinuity } from "./continuity.ts";

export interface PgDriverOptions {
  /**
   * Where statements outside any attempt go (replay counts, sweeps): by default the same pool; a
   * small pool of its own with `options: "-c synchronous_commit=off"` saves their WAL flushes.
   */
  bookkeeping?: pg.Pool;
  /**
   * The pool's sessions already carry lock_timeout, statement_timeout and
   * idle_in_transaction_session_timeout (its `options`). By default each attempt sets them with
   * SET LOCAL in its first script (no extra round trip), so they hold whatever the sessions carry
   * (see `pooler` for PgBouncer's transaction mode).
   */
  sessionSettings?: boolean;
  /**
   * How soon PostgreSQL ends an attempt whose client went silent inside its transaction (a frozen
   * or cut-off server), which frees the keys and rows it held. Default a third of the lease, at
   * least 5 s.
   */
  idleInTransactionTimeoutMs?: number;
  /**
   * `transaction` behind a pooler in transaction mode (PgBouncer's `pool_mode = transaction`):
   * nothing of an attempt outlives its transaction, so its statements are sent in full rather than
   * prepared per connection. Default `session`: a session of its own per connection.
   */
  pooler?: "session" | "transaction";
  /** Watches the pool for a failover or a restore, to drop the cache of outcomes (default true). */
  watchContinuity?: boolean;
  /** Told every statement the wrapper sends (a query log). */
  onQuery?: (sql: string) => void;
}

/**
 * The node-postgres driver, on its public API only: each attempt takes a client of the pool and
 * runs in BEGIN ... COMMIT on it; a mutation's `tx` is that `pg.PoolClient`.
 */
export function pgDriver(pool: pg.Pool, options: PgDriverOptions = {}): IdempotencyDriver<pg.PoolClient> {
  assertNodePostgresPool(pool);
  if (options.bookkeeping) assertNodePostgresPool(options.bookkeeping, "bookkeeping pool");
  const bookkeeping = options.bookkeeping ?? pool;
  let settings: string[] = [];
  const continuity = new DatabaseContinuity();
  if (options.watchContinuity ?? true) continuity.watch(pool, (sql) => bookkeeping.query(sql));
  return {
    shared: true,
    configure({ lockTimeoutMs, leaseMs }) {
      if (options.sessionSettings) return;
      settings = attemptSettings({ lockTimeoutMs, leaseMs }, options.idleInTransactionTimeoutMs);
    },
    async begin() {
      const client = await pool.connect();
      return new PgScriptTransaction<pg.PoolClient>(client as unknown as PgPoolClient, (work) => work(client), {
        settings,
        prepare: options.pooler !== "transaction",
        onQuery: options.onQuery,
      });
    },
    async query<Row>(text: string, params?: unknown[]) {
      options.onQuery?.(text);
      const result = await bookkeeping.query(text, params);
      return { rows: result.rows as Row[] };
    },
    onDiscontinuity: (listener) => continuity.onBreak(listener),
  };
}
