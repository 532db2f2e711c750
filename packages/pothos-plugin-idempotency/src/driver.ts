import type { ValueClass } from "./typed-json.ts";

/** The rows each statement of a script returned, in order. */
export type ScriptResult = Record<string, unknown>[][];

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
 * One attempt's transaction, driven by the wrapper on one connection: its own statements go
 * straight to the connection (several in one round trip), and the mutation's own queries, made
 * inside `run` through `tx`, go into the same transaction.
 */
export interface OpenTransaction<Tx = unknown> {
  /** Runs statements whose values are written in with `literal` or `call`, in one round trip. */
  send(script: string): Promise<ScriptResult>;
  /**
   * One statement with `$1`-style parameters, on this transaction's connection: the mutation's
   * `sql`. Rows as the database's own driver parses them.
   */
  query<Row>(text: string, values: readonly unknown[]): Promise<Row[]>;
  /** A string as an SQL literal, escaped by the driver. */
  literal(value: string): string;
  /** `statement` with these values, as one statement of the next script sent (see Statement). */
  call(statement: Statement, values: readonly SqlValue[]): string;
  /**
   * Sends `script`, then `guard`, without waiting for either to answer, so that the mutation's
   * first statement, made in `run` meanwhile, goes out with them (one round trip): `guard` fails
   * unless `script` found the key free, and the failure aborts the transaction, so nothing sent
   * behind it runs. Their answers, in order. Only drivers whose connections pipeline offer it.
   */
  sendAhead?(script: string, guard: string): [Promise<ScriptResult>, Promise<ScriptResult>];
  /** Runs the mutation with the transaction's client. */
  run<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
  /** Sends `lastScript`, then commits: one round trip. */
  commit(lastScript: string): Promise<ScriptResult>;
  /** Rolls back and gives the connection back; never throws (a broken connection is dropped). */
  rollback(): Promise<void>;
}

/**
 * What the wrapper needs of a database: PostgreSQL (or PGlite, PostgreSQL in WebAssembly) reached
 * through some client. `pgDriver` (node-postgres), `prismaDriver` and `pgliteDriver` are the ones
 * shipped; `Tx` is what a mutation's `run` gets to make its effects with.
 */
export interface IdempotencyDriver<Tx = unknown> {
  /**
   * Whether other processes may share the database (PostgreSQL), so that an attempt at a key may
   * be running elsewhere; false for a database only this process can open (PGlite).
   */
  readonly shared: boolean;
  /** Begins an attempt's transaction on a connection of its own. */
  begin(): Promise<OpenTransaction<Tx>>;
  /**
   * Statements outside any attempt (replay counts, sweeps, who holds a key), with `$1`-style
   * parameters. Their commits need not be durable (counters), so a driver may send them through
   * a pool with `synchronous_commit` off.
   */
  query<Row = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: Row[] }>;
  /**
   * Calls `listener` when the database may no longer hold what this process saw it commit (its
   * connections were cut, or it is another server now: a failover, a restore), so the cache of
   * stored outcomes is dropped.
   */
  onDiscontinuity?(listener: (reason: string) => void): void;
  /**
   * Told the runner's bounds once: how long a duplicate waits on a key's lock, and how long an
   * attempt may run. A driver whose sessions do not carry them already sets them per attempt.
   */
  configure?(settings: { lockTimeoutMs: number; leaseMs: number }): void;
  /**
   * Refuses a setup under which an attempt's queries would not all run in its transaction (a Prisma
   * client not built on the adapter it is given), with an error naming the fix. Called by
   * `ensureSchema()` and `verify()`; a driver also refuses at its first attempt.
   */
  verify?(): Promise<void>;
  /** Classes of the values its client returns that outcomes must keep (Prisma's Decimal), besides `createIdempotency`'s `values`. */
  readonly values?: readonly ValueClass[];
}

export function sqlValue(value: SqlValue, literal: (text: string) => string): string {
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

/** A statement written out in full, its values cast to their types: for a connection that prepares nothing. */
export function inlineCall(statement: Statement, values: readonly SqlValue[], literal: (text: string) => string): string {
  checkArity(statement, values);
  return statement.sql.replace(/\$(\d+)/g, (_, n: string) => {
    const index = Number(n) - 1;
    return `(${sqlValue(values[index]!, literal)})::${statement.params[index]}`;
  });
}

/** PostgreSQL's own quoting of a string literal (standard_conforming_strings on, as since 9.1). */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** What of a node-postgres pooled client the wrapper uses: all of it public API. */
export interface PgPoolClient {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] } | { rows: Record<string, unknown>[] }[]>;
  /** node-postgres' `pipeline` option: each query goes out at once, without waiting for the one before. */
  readonly pipeline?: boolean;
  /** Its socket, corked while the statements sent ahead of a claim's answer wait for the mutation's first. */
  readonly connection?: { stream?: { cork?(): void; uncork?(): void } };
  escapeLiteral(value: string): string;
  on(event: "error", listener: (error: Error) => void): void;
  removeListener(event: "error", listener: (error: Error) => void): void;
  release(error?: Error | boolean): void;
}

export interface PgScriptOptions {
  /** Statements sent right after BEGIN, with the first script (the attempt's SET LOCAL settings). */
  settings?: readonly string[];
  /**
   * Prepare the wrapper's statements once per connection (default). Off behind a pooler in
   * transaction mode, where the server connection behind a client is another's from one
   * transaction to the next: then each statement is sent in full, nothing outliving the transaction.
   */
  prepare?: boolean;
  /** Told each script as it goes out, BEGIN, settings and PREPAREs included (a query log). */
  onQuery?: (sql: string) => void;
  /** Told once, when the transaction has ended (committed, or rolled back and given back). */
  onEnd?: () => void;
}

/** What an attempt waits and runs for at most (see timeoutSettings). */
export interface TimeoutSettings {
  lockTimeoutMs: number;
  statementTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
}

/**
 * The statements that set how long a session waits for a lock (a duplicate waiting on the key's),
 * how long a statement may run, and how soon the server ends it when its client goes silent inside
 * a transaction (a frozen or cut-off server), which frees what it held: for the session (`SET`,
 * on a connection of its own), or for the attempt's transaction (`SET LOCAL`, behind a pooler in
 * transaction mode).
 */
export function timeoutSettings(settings: TimeoutSettings, scope: "session" | "transaction"): string[] {
  const set = scope === "transaction" ? "SET LOCAL" : "SET";
  return [
    `${set} lock_timeout = ${Math.round(settings.lockTimeoutMs)}`,
    `${set} statement_timeout = ${Math.round(settings.statementTimeoutMs)}`,
    `${set} idle_in_transaction_session_timeout = ${Math.round(settings.idleInTransactionTimeoutMs)}`,
  ];
}

/** The settings an attempt sets for itself with SET LOCAL: they end with its transaction. */
export function localSettings(settings: TimeoutSettings): string[] {
  return timeoutSettings(settings, "transaction");
}

/**
 * What an attempt sets for itself when the pool's sessions carry nothing (see `configure`): a
 * duplicate waits `lockTimeoutMs` for the key's lock, a statement runs no longer than the lease,
 * and a client silent inside its transaction is cut off after `idleMs` (default a third of the
 * lease, at least 5 s), which frees what it held.
 */
export function attemptSettings(settings: { lockTimeoutMs: number; leaseMs: number }, idleMs?: number): string[] {
  const idle = idleMs ?? Math.max(5_000, Math.round(settings.leaseMs / 3));
  return localSettings({ lockTimeoutMs: settings.lockTimeoutMs, statementTimeoutMs: settings.leaseMs, idleInTransactionTimeoutMs: idle });
}

/**
 * An attempt on a pooled node-postgres connection of its own, whose BEGIN goes out with the first
 * script (no round trip of its own). The mutation's queries, made inside `run`, go to `enter`,
 * which gives them this connection (the client itself, or a Prisma client bound to it).
 */
export class PgScriptTransaction<Tx> implements OpenTransaction<Tx> {
  /** The statements each connection has prepared. */
  private static readonly prepared = new WeakMap<PgPoolClient, Set<string>>();
  private begun = false;
  private ended = false;
  /** Statements called since the last script that this connection has not prepared yet. */
  private readonly toPrepare = new Map<string, Statement>();
  /** A script that carried PREPAREs failed (which of them ran is unknown), or one found them wrong: the connection is dropped. */
  private unsure = false;
  // A connection that fails while checked out emits here (the pool listens only to idle ones);
  // the query in flight fails with it, and the connection is then dropped, not reused.
  private readonly onError = () => {};
  private readonly settings: readonly string[];
  private readonly prepare: boolean;
  private readonly onQuery: ((sql: string) => void) | undefined;
  private readonly onEnd: (() => void) | undefined;
  /** The socket is corked: statements sent ahead wait there for the mutation's first (see sendAhead). */
  private corked = false;

  constructor(
    private readonly client: PgPoolClient,
    private readonly enter: <T>(work: (tx: Tx) => Promise<T>) => Promise<T>,
    options: PgScriptOptions = {},
  ) {
    this.settings = options.settings ?? [];
    this.prepare = options.prepare ?? true;
    this.onQuery = options.onQuery;
    this.onEnd = options.onEnd;
    client.on("error", this.onError);
  }

  async send(script: string): Promise<ScriptResult> {
    const prepares = [...this.toPrepare.values()].map(
      (statement) => `PREPARE ${statement.name}(${statement.params.join(", ")}) AS ${statement.sql}`,
    );
    const prelude = [...prepares, ...(this.begun ? [] : ["BEGIN", ...this.settings])];
    this.begun = true;
    // A mutation that failed a statement aborted the transaction, and the script that stores its
    // answer begins by rolling back to a savepoint: a PREPARE sent before that would fail too.
    const lead = /^ROLLBACK TO SAVEPOINT \w+;\n/.exec(script)?.[0] ?? "";
    let result: Awaited<ReturnType<PgPoolClient["query"]>>;
    const text = prelude.length > 0 ? `${lead}${prelude.join(";\n")};\n${script.slice(lead.length)}` : script;
    this.onQuery?.(text);
    try {
      result = await this.client.query(text);
    } catch (error) {
      // Also when a prepared statement is missing (26000) or its plan no longer fits a changed
      // table (0A000): a new connection prepares them afresh.
      const code = (error as { code?: unknown }).code;
      if (prepares.length > 0 || code === "26000" || code === "0A000") this.unsure = true;
      throw error;
    }
    if (prepares.length > 0) {
      const prepared = PgScriptTransaction.prepared.get(this.client) ?? new Set();
      for (const name of this.toPrepare.keys()) prepared.add(name);
      PgScriptTransaction.prepared.set(this.client, prepared);
      this.toPrepare.clear();
    }
    const rows = rowsOf(result);
    return lead ? [rows[0]!, ...rows.slice(1 + prelude.length)] : rows.slice(prelude.length);
  }

  /**
   * On a pipelining connection (node-postgres' `pipeline: true`): the two scripts go out at once, and
   * the socket stays corked until the mutation's first query is written behind them (`flushAhead`,
   * called by the query path `enter` gives the mutation), or until this turn of the event loop ends.
   */
  get sendAhead(): OpenTransaction<Tx>["sendAhead"] {
    const stream = this.client.connection?.stream;
    if (!this.client.pipeline || !stream?.cork || !stream.uncork) return undefined;
    return (script, guard) => {
      stream.cork!();
      this.corked = true;
      const first = this.send(script);
      this.onQuery?.(guard);
      const second = this.client.query(guard).then(rowsOf);
      setImmediate(() => this.flushAhead());
      return [first, second];
    };
  }

  /** Writes what waits in the corked socket (see sendAhead). */
  flushAhead(): void {
    if (!this.corked) return;
    this.corked = false;
    this.client.connection?.stream?.uncork?.();
  }

  async query<Row>(text: string, values: readonly unknown[]): Promise<Row[]> {
    this.onQuery?.(text);
    const sent = this.client.query(text, [...values]);
    // Written behind a claim sent ahead, it lets that claim out with it (see sendAhead).
    this.flushAhead();
    return rowsOf(await sent)[0] as Row[];
  }

  literal(value: string): string {
    return this.client.escapeLiteral(value);
  }

  call(statement: Statement, values: readonly SqlValue[]): string {
    if (!this.prepare) return inlineCall(statement, values, (text) => this.literal(text));
    checkArity(statement, values);
    if (!PgScriptTransaction.prepared.get(this.client)?.has(statement.name)) this.toPrepare.set(statement.name, statement);
    return `EXECUTE ${statement.name}(${values.map((value) => sqlValue(value, (text) => this.literal(text))).join(", ")})`;
  }

  async run<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    if (!this.begun) await this.send("SELECT 1");
    return this.enter(work);
  }

  async commit(lastScript: string): Promise<ScriptResult> {
    const results = await sendOrRollBack(this, `${lastScript};\nCOMMIT`);
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
    this.onEnd?.();
  }
}

/** Sends a transaction's last script; if it fails, the transaction is rolled back before the error goes on. */
export async function sendOrRollBack(transaction: Pick<OpenTransaction, "send" | "rollback">, script: string): Promise<ScriptResult> {
  try {
    return await transaction.send(script);
  } catch (error) {
    await transaction.rollback();
    throw error;
  }
}

/** The rows of each statement of a script, as node-postgres answers one (one result, or a list of them). */
function rowsOf(result: Awaited<ReturnType<PgPoolClient["query"]>>): ScriptResult {
  return (Array.isArray(result) ? result : [result]).map((statement) => statement.rows ?? []);
}

/**
 * The same transaction with every statement reported to `onQuery` before it is sent (a query log,
 * for tests that count statements).
 */
export function reportingStatements<Tx>(transaction: OpenTransaction<Tx>, onQuery: (sql: string) => void): OpenTransaction<Tx> {
  return {
    literal: (value) => transaction.literal(value),
    query: (text, values) => {
      onQuery(text);
      return transaction.query(text, values);
    },
    call: (statement, values) => transaction.call(statement, values),
    run: (work) => transaction.run(work),
    rollback: () => transaction.rollback(),
    send: (script) => {
      onQuery(script);
      return transaction.send(script);
    },
    commit: (lastScript) => {
      onQuery(lastScript);
      return transaction.commit(lastScript);
    },
  };
}
