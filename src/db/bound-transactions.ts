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

function sqlValue(value: SqlValue, literal: (text: string) => string): string {
  if (value === null) return "NULL";
  if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new Error(`not an integer: ${value}`);
    return String(value);
  }
  return literal(value);
}

function checkArity(statement: Statement, values: readonly SqlValue[]): void {
  if (values.length !== statement.params.length) {
    throw new Error(`${statement.name} takes ${statement.params.length} values, got ${values.length}`);
  }
}

/** A value written into a script: text is escaped as a literal; numbers must be integers. */
export type SqlValue = string | number | boolean | null;

/**
 * A statement the wrapper runs on every attempt. On PostgreSQL it is prepared once per connection
 * (the first script sent on a connection carries its PREPARE), so the server neither parses nor
 * plans it again; the script then holds only `EXECUTE name(values)`. `params` are the types of
 * $1, $2, ... in `sql`.
 */
export interface Statement {
  name: string;
  params: readonly string[];
  sql: string;
}

/**
 * A transaction that the idempotency wrapper drives itself on one connection, so its own
 * statements go straight to the driver (several in one round trip where the database allows it),
 * while the mutation's Prisma queries, made inside `run`, go into the same transaction.
 */
export interface OpenTransaction {
  /** Runs statements whose values are written in with `literal` or `call`, in one round trip on PostgreSQL. */
  send(script: string): Promise<ScriptResult>;
  /** A string as an SQL literal, escaped by the driver. */
  literal(value: string): string;
  /** `statement` with these values, as one statement of the next script sent (see Statement). */
  call(statement: Statement, values: readonly SqlValue[]): string;
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
    const adapter = await this.innerAdapter();
    if (this.kind === "postgresql") return PgOpenTransaction.open(adapter, this.bound);
    return new PgliteOpenTransaction(await adapter.startTransaction(), this.bound);
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

interface PgPoolClient {
  query(text: string): Promise<{ rows: Record<string, unknown>[] } | { rows: Record<string, unknown>[] }[]>;
  escapeLiteral(value: string): string;
  on(event: "error", listener: (error: Error) => void): void;
  removeListener(event: "error", listener: (error: Error) => void): void;
  release(error?: Error | boolean): void;
}

/**
 * On PostgreSQL: a pooled connection of its own, whose BEGIN goes out with the first script (one
 * round trip fewer than the adapter's startTransaction, which sends BEGIN alone). Prisma's queries
 * made inside `run` go to the adapter's own query path on this connection.
 */
class PgOpenTransaction implements OpenTransaction {
  /** The statements each connection has prepared. */
  private static readonly prepared = new WeakMap<PgPoolClient, Set<string>>();
  private begun = false;
  private ended = false;
  /** Statements called since the last script that this connection has not prepared yet. */
  private readonly toPrepare = new Map<string, Statement>();
  /** A script that carried PREPAREs failed (which of them ran is unknown), or one found them wrong: the connection is dropped. */
  private unsure = false;

  private constructor(
    private readonly client: PgPoolClient,
    private readonly transaction: Transaction,
    private readonly bound: AsyncLocalStorage<Transaction>,
    private readonly onError: (error: Error) => void,
  ) {}

  static async open(adapter: SqlDriverAdapter, bound: AsyncLocalStorage<Transaction>): Promise<PgOpenTransaction> {
    const pool = (adapter as unknown as { underlyingDriver(): { connect(): Promise<PgPoolClient> } }).underlyingDriver();
    const client = await pool.connect();
    // A connection that fails while checked out emits here (the pool listens only to idle ones);
    // the query in flight fails with it, and the connection is then dropped, not reused.
    const onError = () => {};
    client.on("error", onError);
    // The adapter's query path (its type parsers, its errors) on this one connection: the adapter
    // itself, with this connection for its pool.
    const transaction: Transaction = Object.assign(Object.create(adapter) as SqlDriverAdapter, {
      client,
      options: { usePhantomQuery: false },
      commit: async () => {},
      rollback: async () => {},
    }) as unknown as Transaction;
    return new PgOpenTransaction(client, transaction, bound, onError);
  }

  async send(script: string): Promise<ScriptResult> {
    const prepares = [...this.toPrepare.values()].map(
      (statement) => `PREPARE ${statement.name}(${statement.params.join(", ")}) AS ${statement.sql}`,
    );
    const prelude = [...prepares, ...(this.begun ? [] : ["BEGIN"])];
    this.begun = true;
    let result: Awaited<ReturnType<PgPoolClient["query"]>>;
    try {
      result = await this.client.query(prelude.length > 0 ? `${prelude.join(";\n")};\n${script}` : script);
    } catch (error) {
      // Also when a prepared statement is missing (26000) or its plan no longer fits a changed
      // table (0A000): a new connection prepares them afresh.
      const code = (error as { code?: unknown }).code;
      if (prepares.length > 0 || code === "26000" || code === "0A000") this.unsure = true;
      throw error;
    }
    if (prepares.length > 0) {
      const prepared = PgOpenTransaction.prepared.get(this.client) ?? new Set();
      for (const name of this.toPrepare.keys()) prepared.add(name);
      PgOpenTransaction.prepared.set(this.client, prepared);
      this.toPrepare.clear();
    }
    const rows = (Array.isArray(result) ? result : [result]).map((statement) => statement.rows ?? []);
    return rows.slice(prelude.length);
  }

  literal(value: string): string {
    return this.client.escapeLiteral(value);
  }

  call(statement: Statement, values: readonly SqlValue[]): string {
    checkArity(statement, values);
    if (!PgOpenTransaction.prepared.get(this.client)?.has(statement.name)) this.toPrepare.set(statement.name, statement);
    return `EXECUTE ${statement.name}(${values.map((value) => sqlValue(value, (text) => this.literal(text))).join(", ")})`;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (!this.begun) await this.send("SELECT 1");
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
    this.release();
    return results.slice(0, -1);
  }

  async rollback(): Promise<void> {
    if (this.ended) return;
    const failed = this.begun
      ? await this.client.query("ROLLBACK").then(
          () => undefined,
          (error: Error) => error,
        )
      : undefined;
    // A connection that could not even roll back, or whose prepared statements are in doubt, is
    // closed rather than given back.
    this.release(failed ?? (this.unsure ? new Error("prepared statements in doubt") : undefined));
  }

  private release(error?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.client.removeListener("error", this.onError);
    this.client.release(error);
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

  /** Written in full: PGlite has no network to save a parse on, and one connection to keep clean. */
  call(statement: Statement, values: readonly SqlValue[]): string {
    checkArity(statement, values);
    return statement.sql.replace(/\$(\d+)/g, (_, n: string) => {
      const index = Number(n) - 1;
      return `(${sqlValue(values[index]!, (text) => this.literal(text))})::${statement.params[index]}`;
    });
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
