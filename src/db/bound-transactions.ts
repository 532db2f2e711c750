import { AsyncLocalStorage } from "node:async_hooks";
import type {
  IsolationLevel,
  SqlDriverAdapter,
  SqlMigrationAwareDriverAdapterFactory,
  SqlQuery,
  SqlResultSet,
  Transaction,
} from "@prisma/driver-adapter-utils";

/** The rows each statement of a script returned, in order. */
export type ScriptResult = Record<string, unknown>[][];

/**
 * A transaction that the idempotency wrapper drives itself on one connection, so its own
 * statements go straight to the driver (several in one round trip where the database allows it),
 * while the mutation's Prisma queries, made inside `run`, go into the same transaction.
 */
export interface OpenTransaction {
  /** Runs statements whose values are written in with `literal`, in one round trip on PostgreSQL. */
  send(script: string): Promise<ScriptResult>;
  /** A string as an SQL literal, escaped by the driver. */
  literal(value: string): string;
  /** Runs `work` with every query of the app's Prisma client inside this transaction. */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Sends `lastScript`, then commits: one round trip on PostgreSQL. */
  commit(lastScript: string): Promise<ScriptResult>;
  /** Rolls back and gives the connection back; never throws (a broken connection is dropped). */
  rollback(): Promise<void>;
}

/**
 * Wraps a driver adapter factory so that the Prisma client it serves answers from an
 * `OpenTransaction` while one is bound to the async context (`run`). A transaction Prisma starts
 * of its own while bound (a nested write) becomes a savepoint of the bound one. Migrations get the
 * inner factory: the schema engine disposes of what it connects.
 */
export class BindingAdapterFactory {
  readonly provider: SqlMigrationAwareDriverAdapterFactory["provider"];
  readonly adapterName: string;
  private readonly bound = new AsyncLocalStorage<Transaction>();
  private adapter: Promise<SqlDriverAdapter> | undefined;

  constructor(
    private readonly inner: SqlMigrationAwareDriverAdapterFactory,
    private readonly kind: "postgresql" | "pglite",
  ) {
    this.provider = inner.provider;
    this.adapterName = inner.adapterName;
  }

  /** What Prisma's client connects: one adapter, shared with `begin`. */
  connect = async (): Promise<SqlDriverAdapter> => new BindingAdapter(await this.innerAdapter(), this.bound);

  /** Begins a transaction on a connection of its own (PGlite: its one connection, exclusively). */
  async begin(): Promise<OpenTransaction> {
    const transaction = await (await this.innerAdapter()).startTransaction();
    return this.kind === "postgresql" ? new PgOpenTransaction(transaction, this.bound) : new PgliteOpenTransaction(transaction, this.bound);
  }

  private innerAdapter(): Promise<SqlDriverAdapter> {
    this.adapter ??= this.inner.connect();
    return this.adapter;
  }
}

class BindingAdapter implements SqlDriverAdapter {
  readonly provider: SqlDriverAdapter["provider"];
  readonly adapterName: string;
  private savepoints = 0;

  constructor(
    private readonly inner: SqlDriverAdapter,
    private readonly bound: AsyncLocalStorage<Transaction>,
  ) {
    this.provider = inner.provider;
    this.adapterName = inner.adapterName;
  }

  queryRaw(query: SqlQuery): Promise<SqlResultSet> {
    return (this.bound.getStore() ?? this.inner).queryRaw(query);
  }

  executeRaw(query: SqlQuery): Promise<number> {
    return (this.bound.getStore() ?? this.inner).executeRaw(query);
  }

  executeScript(script: string): Promise<void> {
    return this.inner.executeScript(script);
  }

  async startTransaction(isolationLevel?: IsolationLevel): Promise<Transaction> {
    const outer = this.bound.getStore();
    if (!outer) return this.inner.startTransaction(isolationLevel);
    const savepoint = `onceql_nested_${++this.savepoints}`;
    const run = (sql: string) => outer.executeRaw({ sql, args: [], argTypes: [] });
    await run(`SAVEPOINT ${savepoint}`);
    return {
      provider: outer.provider,
      adapterName: outer.adapterName,
      // Prisma sends no COMMIT or ROLLBACK of its own: they would end the outer transaction.
      options: { usePhantomQuery: true },
      queryRaw: (query) => outer.queryRaw(query),
      executeRaw: (query) => outer.executeRaw(query),
      commit: async () => {
        await run(`RELEASE SAVEPOINT ${savepoint}`);
      },
      rollback: async () => {
        await run(`ROLLBACK TO SAVEPOINT ${savepoint}`);
      },
    };
  }

  getConnectionInfo() {
    return this.inner.getConnectionInfo?.() ?? { supportsRelationJoins: false };
  }

  dispose(): Promise<void> {
    return this.inner.dispose();
  }
}

interface PgClient {
  query(text: string): Promise<{ rows: Record<string, unknown>[] } | { rows: Record<string, unknown>[] }[]>;
  escapeLiteral(value: string): string;
}

/** On PostgreSQL: the adapter's transaction (BEGIN sent), and the pooled client under it. */
class PgOpenTransaction implements OpenTransaction {
  private readonly client: PgClient;

  constructor(
    private readonly transaction: Transaction,
    private readonly bound: AsyncLocalStorage<Transaction>,
  ) {
    this.client = (transaction as unknown as { client: PgClient }).client;
  }

  async send(script: string): Promise<ScriptResult> {
    const result = await this.client.query(script);
    return (Array.isArray(result) ? result : [result]).map((statement) => statement.rows ?? []);
  }

  literal(value: string): string {
    return this.client.escapeLiteral(value);
  }

  run<T>(work: () => Promise<T>): Promise<T> {
    return this.bound.run(this.transaction, work);
  }

  async commit(lastScript: string): Promise<ScriptResult> {
    let results: ScriptResult;
    try {
      results = await this.send(`${lastScript};\nCOMMIT`);
    } catch (error) {
      await this.rollback();
      throw error;
    }
    // The adapter's commit only gives the connection back: the COMMIT was sent above.
    await this.transaction.commit();
    return results.slice(0, -1);
  }

  async rollback(): Promise<void> {
    await this.client.query("ROLLBACK").catch(() => {});
    await this.transaction.rollback().catch(() => {});
  }
}

interface PgliteTransactionClient {
  exec(script: string): Promise<{ rows: Record<string, unknown>[] }[]>;
}

/** On PGlite: its one connection, held exclusively until the transaction ends. */
class PgliteOpenTransaction implements OpenTransaction {
  private readonly client: PgliteTransactionClient;

  constructor(
    private readonly transaction: Transaction,
    private readonly bound: AsyncLocalStorage<Transaction>,
  ) {
    this.client = (transaction as unknown as { client: PgliteTransactionClient }).client;
  }

  async send(script: string): Promise<ScriptResult> {
    return (await this.client.exec(script)).map((statement) => statement.rows);
  }

  literal(value: string): string {
    return `'${value.replaceAll("'", "''")}'`;
  }

  run<T>(work: () => Promise<T>): Promise<T> {
    return this.bound.run(this.transaction, work);
  }

  async commit(lastScript: string): Promise<ScriptResult> {
    let results: ScriptResult;
    try {
      results = await this.send(lastScript);
    } catch (error) {
      await this.rollback();
      throw error;
    }
    await this.transaction.commit();
    return results;
  }

  async rollback(): Promise<void> {
    await this.transaction.rollback().catch(() => {});
  }
}
