import { setTimeout as sleep } from "node:timers/promises";
import type {
  ConnectionInfo,
  IsolationLevel,
  SqlDriverAdapter,
  SqlDriverAdapterFactory,
  SqlQuery,
  SqlResultSet,
  Transaction,
} from "@prisma/driver-adapter-utils";
import {
  attemptSettings,
  type IdempotencyDriver,
  inlineCall,
  type OpenTransaction,
  type PgPoolClient,
  PgScriptTransaction,
  quoteLiteral,
  reportingStatements,
  type ScriptResult,
  type SqlValue,
  type Statement,
  sendOrRollBack,
} from "../driver.ts";
import { UnsupportedSetupError } from "../errors.ts";
import { prismaValues } from "./prisma-values.ts";

export { type DecimalConstructor, type DecimalLike, isDecimal, prismaValues } from "./prisma-values.ts";

/** What of a Prisma client the driver uses: the raw-query method every client (and extended client) has. */
export interface PrismaClientLike {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
}

export interface PrismaDriverOptions<Client extends PrismaClientLike> {
  /**
   * The driver adapter factory your Prisma client is made with: `new PrismaPg(pool)` from
   * `@prisma/adapter-pg` (PostgreSQL), or `new PrismaPGlite(db)` from `pglite-prisma-adapter`.
   * Attempts take connections of its own: its pool's, or PGlite's one connection.
   */
  adapter: SqlDriverAdapterFactory;
  /**
   * Makes a Prisma client over the adapter it is given: `(adapter) => new PrismaClient({ adapter })`
   * (extensions welcome). Each attempt's `tx` is such a client, bound to that attempt's connection
   * alone: no other request's query can be batched with its own, and none of its queries can run
   * elsewhere. A few are made, one per attempt running at once, and reused.
   */
  client: (adapter: SqlDriverAdapterFactory) => Client;
  /**
   * `transaction` behind a pooler in transaction mode (PgBouncer's `pool_mode = transaction`):
   * nothing is prepared, each statement is sent in full. Default `session`.
   */
  pooler?: "session" | "transaction";
  /**
   * Statements each attempt sends right after BEGIN, in its first script (no round trip of its
   * own). By default its `SET LOCAL` timeouts, as `pgDriver` sets them: lock_timeout = `waitMs`,
   * statement_timeout = `leaseMs`, idle_in_transaction_session_timeout = a third of `leaseMs` (at
   * least 5 s). `[]` when the pool's sessions carry them already.
   */
  settings?: readonly string[];
  /**
   * Statements outside any attempt (counts, sweeps). By default through a client made by `client`
   * over `adapter`; a pool of its own with synchronous_commit off saves their WAL flushes.
   */
  query?: IdempotencyDriver["query"];
  onDiscontinuity?: IdempotencyDriver["onDiscontinuity"];
  /** Told every statement the wrapper sends (a query log). */
  onQuery?: (sql: string) => void;
}

/** The adapters whose connections an attempt can hold: what this driver supports. */
const SUPPORTED = "@prisma/adapter-pg (PostgreSQL) or pglite-prisma-adapter (PGlite)";

/**
 * The Prisma driver: each attempt runs on a connection of the adapter's own (node-postgres through
 * `@prisma/adapter-pg`, or PGlite through `pglite-prisma-adapter`), and a mutation's `tx` is a
 * Prisma client bound to that connection, by construction: the client is the attempt's alone until
 * it ends, so Prisma's own batching (it merges the `findUnique` calls of one tick) never mixes two
 * attempts' queries, or an attempt's with a query of another request. Your application's own
 * Prisma client, outside attempts, is yours, on the same adapter or any other.
 *
 * ```ts
 * const adapter = new PrismaPg(pool);
 * const prisma = new PrismaClient({ adapter });                    // queries outside mutations
 * const idempotency = createIdempotency({
 *   driver: prismaDriver({ adapter, client: (adapter) => new PrismaClient({ adapter }) }),
 * });
 * ```
 */
export function prismaDriver<Client extends PrismaClientLike>(options: PrismaDriverOptions<Client>): IdempotencyDriver<Client> {
  const { adapter: factory, onQuery } = options;
  const kind = kindOf(factory);
  let inner: Promise<SqlDriverAdapter> | undefined;
  const connect = () => {
    inner ??= factory.connect();
    return inner;
  };
  const clients = new AttemptClients(options.client, factory);
  let outside: Client | undefined;
  let settings = options.settings ?? [];
  return {
    shared: kind === "postgresql",
    configure(bounds) {
      if (!options.settings) settings = attemptSettings(bounds);
    },
    async begin() {
      const adapter = await connect();
      if (kind === "postgresql") {
        return openPgTransaction(adapter, clients, { prepare: options.pooler !== "transaction", settings, onQuery });
      }
      const transaction = await adapter.startTransaction();
      // A client once the connection is held: never more clients than connections held at once.
      const bound = await clients.take().catch(async (error: unknown) => {
        await transaction.rollback().catch(() => {});
        throw error;
      });
      const opened = new PgliteOpenTransaction(transaction, bound, clients.releaser(bound));
      if (!onQuery) return opened;
      onQuery("BEGIN");
      return reportingStatements(opened, onQuery);
    },
    query:
      options.query ??
      (async <Row>(text: string, params: unknown[] = []) => {
        outside ??= options.client(factory);
        return { rows: await outside.$queryRawUnsafe<Row[]>(text, ...params) };
      }),
    onDiscontinuity: options.onDiscontinuity,
    // A Decimal column's value, in a payload or an error, replays as Prisma's Decimal.
    values: prismaValues(),
    // A client not built on the adapter it is given is refused before anything relies on it.
    verify: async () => clients.give(await clients.take()),
  };
}

/** Which engine the factory reaches, or a refusal naming the ones supported. */
function kindOf(factory: SqlDriverAdapterFactory): "postgresql" | "pglite" {
  if (factory.provider !== "postgres") {
    throw new UnsupportedSetupError(
      `prismaDriver: the plugin stores outcomes in PostgreSQL (or PGlite), and this adapter (${factory.adapterName}) is for ${factory.provider}. Use ${SUPPORTED}.`,
    );
  }
  if (factory.adapterName === "@prisma/adapter-pg") return "postgresql";
  if (factory.adapterName === "pglite-prisma-adapter") return "pglite";
  throw new UnsupportedSetupError(
    `prismaDriver: an attempt holds one connection of the adapter for its whole transaction, which ${factory.adapterName} does not offer. Use ${SUPPORTED}.`,
  );
}

/**
 * The Prisma clients attempts run their queries through, each over a `BoundAdapter` of its own:
 * one per attempt running at once, handed to one attempt at a time and made as needed (a client
 * costs ~20 ms and a few MB to make, far too much per attempt).
 */
class AttemptClients<Client extends PrismaClientLike> {
  private readonly free: BoundClient<Client>[] = [];
  private readonly made = new WeakSet<object>();

  constructor(
    private readonly make: (adapter: SqlDriverAdapterFactory) => Client,
    private readonly factory: SqlDriverAdapterFactory,
  ) {}

  async take(): Promise<BoundClient<Client>> {
    return this.free.pop() ?? (await this.create());
  }

  give(client: BoundClient<Client>): void {
    client.adapter.unbind();
    this.free.push(client);
  }

  /** Gives `client` back once its attempt has ended, never sooner: until then it is that attempt's alone. */
  releaser(client: BoundClient<Client>): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.give(client);
    };
  }

  /**
   * A new client, checked: its queries must reach the adapter it was given, and it must be its
   * own (a client shared by two attempts would batch their queries together). The check sends
   * nothing to the database: the adapter answers it.
   */
  private async create(): Promise<BoundClient<Client>> {
    const adapter = new BoundAdapter(this.factory);
    const client = this.make({
      provider: this.factory.provider,
      adapterName: this.factory.adapterName,
      connect: async () => adapter,
    });
    if (typeof client !== "object" || client === null || this.made.has(client)) {
      throw new UnsupportedSetupError(
        "prismaDriver: `client` must make a new Prisma client each time it is called: `client: (adapter) => new PrismaClient({ adapter })`. " +
          "A client shared by two attempts would batch their queries together.",
      );
    }
    if (!(await adapter.answersProbe(() => client.$queryRawUnsafe(PROBE_SQL)))) {
      throw new UnsupportedSetupError(
        "prismaDriver: the Prisma client `client` made did not send its queries through the adapter it was given, so a mutation's queries " +
          "would run outside its attempt's transaction. Build it on that adapter: `client: (adapter) => new PrismaClient({ adapter })`.",
      );
    }
    this.made.add(client);
    return { client, adapter };
  }
}

interface BoundClient<Client> {
  client: Client;
  adapter: BoundAdapter;
}

const PROBE_SQL = "SELECT 1 AS onceql_binding_probe";
/** Long enough for a new client's first query (its engine loads on it), on a loaded machine. */
const PROBE_MS = 10_000;

/**
 * What an attempt's Prisma client connects: its queries go to the transaction it is bound to, and
 * only while it is bound; a transaction Prisma starts of its own (a nested write) is a savepoint
 * of it. Bound and unbound by its attempt alone, never through an async context.
 */
class BoundAdapter implements SqlDriverAdapter {
  readonly provider: SqlDriverAdapter["provider"];
  readonly adapterName: string;
  private bound: Transaction | undefined;
  private savepoints = 0;

  constructor(factory: SqlDriverAdapterFactory) {
    this.provider = factory.provider;
    this.adapterName = factory.adapterName;
  }

  bind(transaction: Transaction): void {
    this.bound = transaction;
  }

  unbind(): void {
    this.bound = undefined;
  }

  /**
   * Whether `query` reaches this adapter: it answers the probe itself, without a database. Decided
   * as soon as it is reached, or the query settles elsewhere; a query that went elsewhere and waits
   * there (PGlite's one connection, held by the very attempt this client is for) is given up on
   * after PROBE_MS.
   */
  async answersProbe(query: () => Promise<unknown>): Promise<boolean> {
    let reached!: () => void;
    const reachedUs = new Promise<boolean>((resolve) => (reached = () => resolve(true)));
    this.bound = {
      queryRaw: async (q: SqlQuery): Promise<SqlResultSet> => {
        if (q.sql === PROBE_SQL) reached();
        return { columnNames: ["onceql_binding_probe"], columnTypes: [0], rows: [[1]] };
      },
    } as unknown as Transaction;
    const timer = new AbortController();
    try {
      return await Promise.race([
        reachedUs,
        // Settled without reaching this adapter: it went elsewhere, or failed before going anywhere.
        query().then(
          () => false,
          () => false,
        ),
        sleep(PROBE_MS, false, { signal: timer.signal, ref: false }).catch(() => false),
      ]);
    } finally {
      timer.abort();
      this.bound = undefined;
    }
  }

  queryRaw(query: SqlQuery): Promise<SqlResultSet> {
    return this.transaction().queryRaw(query);
  }

  executeRaw(query: SqlQuery): Promise<number> {
    return this.transaction().executeRaw(query);
  }

  async executeScript(script: string): Promise<void> {
    await this.transaction().executeRaw({ sql: script, args: [], argTypes: [] });
  }

  async startTransaction(_isolationLevel?: IsolationLevel): Promise<Transaction> {
    const outer = this.transaction();
    const savepoint = `onceql_nested_${++this.savepoints}`;
    const run = (sql: string) => outer.executeRaw({ sql, args: [], argTypes: [] });
    await run(`SAVEPOINT ${savepoint}`);
    return {
      provider: outer.provider,
      adapterName: outer.adapterName,
      // Prisma sends no COMMIT or ROLLBACK of its own: they would end the attempt's transaction.
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

  getConnectionInfo(): ConnectionInfo {
    // Relation joins are one statement per query (PGlite's adapter offers them; node-postgres' does not).
    return { supportsRelationJoins: this.adapterName === "pglite-prisma-adapter" };
  }

  async dispose(): Promise<void> {}

  private transaction(): Transaction {
    if (!this.bound) {
      throw new Error("a mutation's `tx` was used after its attempt ended: its queries belong inside `run`, awaited before it returns");
    }
    return this.bound;
  }
}

/**
 * On PostgreSQL: a pooled connection of its own (the adapter's pool), whose BEGIN goes out with the
 * first script, one round trip fewer than the adapter's startTransaction, which sends BEGIN alone.
 * The attempt's client queries this connection through the adapter's own query path (its type
 * parsers, its errors).
 */
async function openPgTransaction<Client extends PrismaClientLike>(
  adapter: SqlDriverAdapter,
  clients: AttemptClients<Client>,
  options: { prepare: boolean; settings: readonly string[]; onQuery?: (sql: string) => void },
): Promise<OpenTransaction<Client>> {
  const pool = (adapter as unknown as { underlyingDriver(): { connect(): Promise<PgPoolClient> } }).underlyingDriver();
  const connection = await pool.connect();
  // A client once the connection is held: never more clients than the pool has connections.
  const bound = await clients.take().catch((error: unknown) => {
    connection.release();
    throw error;
  });
  const release = clients.releaser(bound);
  // Each query written lets out what waits ahead of it (see PgScriptTransaction.sendAhead).
  const queries = {
    query: (...args: unknown[]): unknown => {
      const sent = (connection.query as (...a: unknown[]) => unknown)(...args);
      opened.flushAhead();
      return sent;
    },
  };
  // The adapter itself, with this one connection for its pool.
  const transaction: Transaction = Object.assign(Object.create(adapter) as SqlDriverAdapter, {
    client: queries,
    options: { usePhantomQuery: false },
    commit: async () => {},
    rollback: async () => {},
  }) as unknown as Transaction;
  bound.adapter.bind(transaction);
  const opened = new PgScriptTransaction<Client>(connection, (work) => work(bound.client), {
    ...options,
    onEnd: release,
  });
  return opened;
}

interface PgliteTransactionClient {
  exec(script: string): Promise<{ rows: Record<string, unknown>[] }[]>;
  query<Row>(text: string, values: unknown[]): Promise<{ rows: Row[] }>;
}

/** On PGlite: its one connection, held exclusively until the transaction ends. */
class PgliteOpenTransaction<Client> implements OpenTransaction<Client> {
  private readonly connection: PgliteTransactionClient;
  private ended = false;

  constructor(
    private readonly transaction: Transaction,
    private readonly bound: BoundClient<Client>,
    private readonly release: () => void,
  ) {
    this.connection = (transaction as unknown as { client: PgliteTransactionClient }).client;
    bound.adapter.bind(transaction);
  }

  async send(script: string): Promise<ScriptResult> {
    return (await this.connection.exec(script)).map((statement) => statement.rows);
  }

  async query<Row>(text: string, values: readonly unknown[]): Promise<Row[]> {
    return (await this.connection.query<Row>(text, values as unknown[])).rows;
  }

  literal(value: string): string {
    return quoteLiteral(value);
  }

  /** Written in full: PGlite has no network to save a parse on, and one connection to keep clean. */
  call(statement: Statement, values: readonly SqlValue[]): string {
    return inlineCall(statement, values, quoteLiteral);
  }

  run<T>(work: (client: Client) => Promise<T>): Promise<T> {
    return work(this.bound.client);
  }

  async commit(lastScript: string): Promise<ScriptResult> {
    const results = await sendOrRollBack(this, lastScript);
    this.end();
    await this.transaction.commit();
    return results;
  }

  async rollback(): Promise<void> {
    if (this.ended) return;
    this.end();
    await this.transaction.rollback().catch(() => {});
  }

  private end(): void {
    this.ended = true;
    this.release();
  }
}
