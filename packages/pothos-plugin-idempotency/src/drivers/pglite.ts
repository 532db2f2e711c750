import type { PGlite, Transaction } from "@electric-sql/pglite";
import {
  type IdempotencyDriver,
  inlineCall,
  type OpenTransaction,
  quoteLiteral,
  type ScriptResult,
  type SqlValue,
  type Statement,
  sendOrRollBack,
} from "../driver.ts";

/**
 * The PGlite driver (PostgreSQL in WebAssembly, in this process): each attempt holds PGlite's one
 * connection in a transaction of its own; a mutation's `tx` is PGlite's `Transaction`. Nothing
 * else shares the database, so no attempt can be running in another process.
 */
export function pgliteDriver(db: PGlite): IdempotencyDriver<Transaction> {
  return {
    shared: false,
    begin: () => PgliteTransaction.open(db),
    async query<Row>(text: string, params?: unknown[]) {
      const result = await db.query<Row>(text, params);
      return { rows: result.rows };
    },
  };
}

class PgliteTransaction implements OpenTransaction<Transaction> {
  private ended = false;

  private constructor(
    private readonly tx: Transaction,
    private readonly finish: (commit: boolean) => void,
    private readonly done: Promise<void>,
  ) {}

  /** PGlite's transaction() runs a callback; it is held open here until the attempt commits or rolls back. */
  static async open(db: PGlite): Promise<PgliteTransaction> {
    let handOut!: (tx: Transaction) => void;
    let finish!: (commit: boolean) => void;
    const given = new Promise<Transaction>((resolve) => (handOut = resolve));
    const ending = new Promise<boolean>((resolve) => (finish = resolve));
    const done = db.transaction(async (tx) => {
      handOut(tx);
      if (!(await ending)) await tx.rollback();
    });
    // A failure to begin reaches `given` never: race it.
    const tx = await Promise.race([given, done.then(() => Promise.reject(new Error("PGlite ended the transaction before it began")))]);
    return new PgliteTransaction(tx, finish, done);
  }

  async send(script: string): Promise<ScriptResult> {
    return (await this.tx.exec(script)).map((statement) => statement.rows as Record<string, unknown>[]);
  }

  async query<Row>(text: string, values: readonly unknown[]): Promise<Row[]> {
    return (await this.tx.query<Row>(text, values as unknown[])).rows;
  }

  literal(value: string): string {
    return quoteLiteral(value);
  }

  call(statement: Statement, values: readonly SqlValue[]): string {
    return inlineCall(statement, values, quoteLiteral);
  }

  run<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    return work(this.tx);
  }

  async commit(lastScript: string): Promise<ScriptResult> {
    const results = await sendOrRollBack(this, lastScript);
    this.ended = true;
    this.finish(true);
    await this.done;
    return results;
  }

  async rollback(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.finish(false);
    await this.done.catch(() => {});
  }
}
