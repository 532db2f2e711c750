import { AsyncLocalStorage } from "node:async_hooks";
import type {
  IsolationLevel,
  SqlDriverAdapter,
  SqlMigrationAwareDriverAdapterFactory,
  SqlQuery,
  SqlResultSet,
  Transaction,
} from "@prisma/driver-adapter-utils";
import {
  type IdempotencyDriver,
  inlineCall,
  type OpenTransaction,
  type PgPoolClient,
  type PgScriptOptions,
  PgScriptTransaction,
  quoteLiteral,
  reportingStatements,
  type ScriptResult,
  type SqlValue,
  type Statement,
  sendOrRollBack,
} from "../driver.ts";

export interface PrismaDriverOptions<Client> {
  /** The adapter factory the Prisma client was made with: `new PrismaClient({ adapter })`. */
  adapter: BindingAdapterFactory;
  /** That Prisma client: a mutation's `tx`, its queries going into the attempt's transaction. */
  client: Client;
  /**
   * Statements outside any attempt (counts, sweeps). By default through the Prisma client; a pool
   * of its own with synchronous_commit off saves their WAL flushes.
   */
  query?: IdempotencyDriver["query"];
  onDiscontinuity?: IdempotencyDriver["onDiscontinuity"];
  /** Told every statement the wrapper sends (a query log). */
  onQuery?: (sql: string) => void;
}

/**
 * The Prisma driver: attempts run on the driver adapter's own connections (node-postgres through
 * `@prisma/adapter-pg`, or PGlite through `pglite-prisma-adapter`), and a mutation's `tx` is the
 * Prisma client itself, whose every query made inside the attempt goes into its transaction.
 *
 * ```ts
 * const adapter = new BindingAdapterFactory(new PrismaPg(pool), "postgresql");
 * const prisma = new PrismaClient({ adapter });
 * const idempotency = createIdempotency({ driver: prismaDriver({ adapter, client: prisma }) });
 * ```
 */
export function prismaDriver<Client extends { $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T> }>(
  options: PrismaDriverOptions<Client>,
): IdempotencyDriver<Client> {
  const { adapter, client, onQuery } = options;
  return {
    shared: adapter.kind === "postgresql",
    begin: async () => {
      // On PostgreSQL each script is reported as it goes out; PGlite's as the wrapper sends them.
      if (adapter.kind === "postgresql") return adapter.begin(() => client, onQuery);
      const transaction = await adapter.begin(() => client);
      if (!onQuery) return transaction;
      onQuery("BEGIN");
      return reportingStatements(transaction, onQuery);
    },
    query:
      options.query ??
      (async <Row>(text: string, params: unknown[] = []) => ({ rows: await client.$queryRawUnsafe<Row[]>(text, ...params) })),
    onDiscontinuity: options.onDiscontinuity,
  };
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
    readonly kind: "postgresql" | "pglite",
    /** PostgreSQL: whether attempts prepare their statements, and what they SET LOCAL (see PgScriptOptions). */
    private readonly attempts: PgScriptOptions = {},
  ) {
    this.provider = inner.provider;
    this.adapterName = inner.adapterName;
  }

  /** What Prisma's client connects: one adapter, shared with `begin`. */
  connect = async (): Promise<SqlDriverAdapter> => new BindingAdapter(await this.innerAdapter(), this.bound);

  /**
   * Begins a transaction on a connection of its own (PGlite: its one connection, exclusively), in
   * which the Prisma client `client()` gives answers from inside `run`.
   */
  async begin<Client>(client: () => Client, onQuery?: (sql: string) => void): Promise<OpenTransaction<Client>> {
    const adapter = await this.innerAdapter();
    if (this.kind === "postgresql") return openPgTransaction(adapter, this.bound, client, { ...this.attempts, onQuery });
    return new PgliteOpenTransaction(await adapter.startTransaction(), this.bound, client);
  }

  /**
   * A statement on the connection of the attempt bound to the async context, past the Prisma
   * client: its rows as the database's own driver parses them (node-postgres or PGlite: uuid and
   * text as strings, timestamptz as Date, json and jsonb parsed). Undefined outside an attempt.
   * For the statements where the client is the cost: its raw-query path spends ~70 µs of CPU on
   * a one-row INSERT here, the statement itself a few.
   */
  async query<Row>(text: string, values: readonly unknown[]): Promise<Row[] | undefined> {
    const bound = this.bound.getStore() as { client?: RawClient } | undefined;
    if (!bound?.client) return undefined;
    return (await bound.client.query<Row>(text, values as unknown[])).rows;
  }

  private innerAdapter(): Promise<SqlDriverAdapter> {
    this.adapter ??= this.inner.connect();
    return this.adapter;
  }
}

/** What of an attempt's connection `query` uses: node-postgres' client (through `queries` below) and PGlite's transaction alike. */
interface RawClient {
  query<Row>(text: string, values: unknown[]): Promise<{ rows: Row[] }>;
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

/**
 * On PostgreSQL: a pooled connection of its own (the adapter's pool), whose BEGIN goes out with the
 * first script, one round trip fewer than the adapter's startTransaction, which sends BEGIN alone.
 * Prisma's queries made inside `run` go to the adapter's own query path on this connection.
 */
async function openPgTransaction<Client>(
  adapter: SqlDriverAdapter,
  bound: AsyncLocalStorage<Transaction>,
  client: () => Client,
  options: PgScriptOptions,
): Promise<OpenTransaction<Client>> {
  const pool = (adapter as unknown as { underlyingDriver(): { connect(): Promise<PgPoolClient> } }).underlyingDriver();
  const connection = await pool.connect();
  // The adapter's query path (its type parsers, its errors) on this one connection: the adapter
  // itself, with this connection for its pool. Each query it writes lets out what waits ahead of it.
  const queries = {
    query: (...args: unknown[]): unknown => {
      const sent = (connection.query as (...a: unknown[]) => unknown)(...args);
      opened.flushAhead();
      return sent;
    },
  };
  const transaction: Transaction = Object.assign(Object.create(adapter) as SqlDriverAdapter, {
    client: queries,
    options: { usePhantomQuery: false },
    commit: async () => {},
    rollback: async () => {},
  }) as unknown as Transaction;
  const opened = new PgScriptTransaction<Client>(connection, (work) => bound.run(transaction, () => work(client())), options);
  return opened;
}

interface PgliteTransactionClient {
  exec(script: string): Promise<{ rows: Record<string, unknown>[] }[]>;
}

/** On PGlite: its one connection, held exclusively until the transaction ends. */
class PgliteOpenTransaction<Client> implements OpenTransaction<Client> {
  private readonly connection: PgliteTransactionClient;

  constructor(
    private readonly transaction: Transaction,
    private readonly bound: AsyncLocalStorage<Transaction>,
    private readonly client: () => Client,
  ) {
    this.connection = (transaction as unknown as { client: PgliteTransactionClient }).client;
  }

  async send(script: string): Promise<ScriptResult> {
    return (await this.connection.exec(script)).map((statement) => statement.rows);
  }

  literal(value: string): string {
    return quoteLiteral(value);
  }

  /** Written in full: PGlite has no network to save a parse on, and one connection to keep clean. */
  call(statement: Statement, values: readonly SqlValue[]): string {
    return inlineCall(statement, values, quoteLiteral);
  }

  run<T>(work: (client: Client) => Promise<T>): Promise<T> {
    return this.bound.run(this.transaction, () => work(this.client()));
  }

  async commit(lastScript: string): Promise<ScriptResult> {
    const results = await sendOrRollBack(this, lastScript);
    await this.transaction.commit();
    return results;
  }

  async rollback(): Promise<void> {
    await this.transaction.rollback().catch(() => {});
  }
}
