import type pg from "pg";

/** What a session says of the server behind it: its cluster and its timeline. */
interface ServerIdentity {
  system: string | null;
  timeline: string;
}

/**
 * The cluster, and the timeline: the first 8 hex digits of the current WAL file's name (a promoted
 * replica, or a point-in-time restore, starts a new one). `pg_control_system` may be closed to a
 * role without pg_monitor: then the cluster is not compared.
 */
const identitySql = (withSystem: boolean) =>
  `SELECT ${withSystem ? "(SELECT system_identifier::text FROM pg_control_system())" : "NULL"} AS system,
     substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8) AS timeline`;

/**
 * Tells whether the database this process talks to may have lost what it saw committed: after a
 * failover to an asynchronous replica, or a restore, the server behind the same URL no longer
 * holds the last commits, and what this process remembers of them (its cache of stored outcomes)
 * must not be believed. Either shows: the connections are cut (a failover or a restore restarts
 * the server), or a connection opened later, after the pool had let its idle ones go, finds
 * another cluster or another timeline. A false alarm (a restart that lost nothing) costs only
 * cache misses.
 */
export class DatabaseContinuity {
  private readonly listeners: ((reason: string) => void)[] = [];
  private seen: ServerIdentity | undefined;
  private systemReadable = true;

  onBreak(listener: (reason: string) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Watches every connection the pool opens: whether it is lost, and what server it reached, asked
   * through `ask` (another pool: the new connection is its requester's, and a query queued on it
   * behind the requester's own is deprecated in pg).
   */
  watch(pool: pg.Pool, ask: (sql: string) => Promise<{ rows: unknown[] }>): void {
    pool.on("connect", (client) => {
      // Emitted only when the connection ends unexpectedly (not when the pool closes an idle one).
      client.on("error", () => this.broken("a connection to the database was lost"));
      this.identify(ask).then(
        (identity) => identity && this.observe(identity),
        () => {},
      );
    });
  }

  private async identify(ask: (sql: string) => Promise<{ rows: unknown[] }>): Promise<ServerIdentity | undefined> {
    try {
      const { rows } = await ask(identitySql(this.systemReadable));
      return rows[0] as ServerIdentity | undefined;
    } catch (error) {
      // 42501: pg_control_system needs pg_monitor. Anything else (a standby, a lost connection) is no answer.
      if ((error as { code?: string }).code !== "42501" || !this.systemReadable) return undefined;
      this.systemReadable = false;
      return this.identify(ask);
    }
  }

  private observe(identity: ServerIdentity): void {
    const before = this.seen;
    this.seen = identity;
    if (before?.system != null && identity.system !== null && identity.system !== before.system) {
      this.broken("the database is another cluster than before");
    } else if (before && identity.timeline !== before.timeline) {
      this.broken(`the database is on timeline ${identity.timeline}, not ${before.timeline}`);
    }
  }

  private broken(reason: string): void {
    for (const listener of this.listeners) listener(reason);
  }
}
