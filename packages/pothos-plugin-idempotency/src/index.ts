import "./global-types.ts";
import "./schema-builder.ts";
import SchemaBuilder from "@pothos/core";
import { Admission, type ConcurrencyOptions } from "./admission.ts";
import type { IdempotencyDriver } from "./driver.ts";
import { assertPostgres } from "./engines.ts";
import { IdempotentExecutor } from "./executor.ts";
import { OutcomeCache } from "./outcome-cache.ts";
import { OutcomeCipher } from "./outcome-cipher.ts";
import { OutcomeCodec } from "./outcome-codec.ts";
import { PendingCounts } from "./pending-counts.ts";
import { PothosIdempotencyPlugin } from "./plugin.ts";
import { DEFAULT_TABLES, RecordStore, schemaSql, type TableLayout } from "./record-store.ts";
import type { ValueClass } from "./typed-json.ts";
import { type IdempotencyFaults, type IdempotencyLogger, type IdempotencyMetrics, noMetrics } from "./types.ts";

export type { ConcurrencyOptions } from "./admission.ts";
export { assertValidClientMutationId, MAX_CLIENT_MUTATION_ID_LENGTH } from "./client-mutation-id.ts";
export { isDatabaseBusy, isDatabaseUnavailable, isRetryableConflict, sqlState } from "./database-errors.ts";
export {
  type IdempotencyDriver,
  localSettings,
  type OpenTransaction,
  type PgScriptOptions,
  type ScriptResult,
  type SqlValue,
  type Statement,
  type TimeoutSettings,
  timeoutSettings,
} from "./driver.ts";
export { MIN_POSTGRES_MAJOR, SUPPORTED_ENGINES } from "./engines.ts";
export { type ErrorOutcome, withOutcome } from "./error-outcome.ts";
export {
  clientMutationIdInUse,
  clientMutationIdReused,
  DATABASE_BUSY_RETRY_AFTER_MS,
  databaseBusy,
  invalidClientMutationId,
  UnsupportedSetupError,
} from "./errors.ts";
export { IdempotentExecutor } from "./executor.ts";
export { differingFields, fingerprintOf } from "./fingerprint.ts";
export type { ErrorClass, Outcome } from "./outcome-codec.ts";
export { PothosIdempotencyPlugin } from "./plugin.ts";
export {
  DAILY_STATS_RETENTION_DAYS,
  DEFAULT_TABLES,
  type RecordRef,
  type SweepResult,
  schemaSql,
  type TableLayout,
} from "./record-store.ts";
export { readsLive, whyNotShowable } from "./showable.ts";
export type { ValueClass } from "./typed-json.ts";
export * from "./types.ts";

const pluginName = "idempotency";

export default pluginName;

SchemaBuilder.registerPlugin(pluginName, PothosIdempotencyPlugin);

export interface IdempotencyOptions<Tx = unknown> {
  /** The database: `pgDriver(pool)`, `prismaDriver(...)` or `pgliteDriver(db)`. */
  driver: IdempotencyDriver<Tx>;
  /** How long an outcome is kept: milliseconds, or `"24h"`, `"90m"`, `"30s"`. Default 24h. */
  ttl?: number | string;
  /** How long a duplicate waits for the attempt holding its key before IDEMPOTENCY_KEY_IN_USE. Default 10 s. */
  waitMs?: number;
  /** The longest one attempt may run; past it, it is rolled back rather than committed. Default 30 s. */
  leaseMs?: number;
  /**
   * 32 bytes (or their base64) that seal the outcomes of `sensitive` mutations (AES-256-GCM); or
   * a list to rotate them: the first seals, and each opens what it sealed. Keep an older key
   * listed until the records it sealed have expired (the TTL).
   */
  encryptionKey?: Uint8Array | string | readonly (Uint8Array | string)[];
  /** Tables of your own (names and scope column); by default those `ensureSchema()` creates. */
  tables?: Partial<TableLayout>;
  /** Where the wrapper counts (see `prometheusMetrics`); by default nowhere. */
  metrics?: IdempotencyMetrics;
  /** Where it says what went wrong outside any request (counts not stored, an attempt past its lease). */
  logger?: IdempotencyLogger;
  /** Outcomes kept in memory to answer retries without a round trip. */
  cache?: { maxEntries?: number; maxBytes?: number };
  /** Reads outcomes stored in a format of your own before this package (typed JSON is told apart). */
  decodeLegacy?: (text: string) => unknown;
  /**
   * Classes a payload or a stored error may hold beyond JSON, `BigInt`, `Date`, `Uint8Array` and
   * `Buffer`, which are kept already: each says how its instances are stored and made again.
   * `prismaDriver` brings Prisma's `Decimal` itself (see `prismaValues` in `/prisma`); a class
   * named here wins over a driver's of the same name. Any other class instance in an outcome is
   * refused, naming where it was, and nothing is stored.
   *
   * @example
   * ```ts
   * createIdempotency({
   *   driver,
   *   values: [{ name: "Money", is: (v) => v instanceof Money, toJSON: (m) => m.toString(), fromJSON: (s) => Money.parse(s) }],
   * });
   * ```
   */
  values?: readonly ValueClass[];
  /**
   * Limits on attempts running at once, each holding a connection of the driver's pool: in all,
   * per scope, and for mutations that call other services (not `onlyDatabaseEffects`), with how
   * long an attempt may wait for its turn before DATABASE_BUSY. Without it, attempts take
   * connections as the pool hands them out: one scope's burst, or slow calls to another service,
   * can hold them all.
   *
   * @example
   * ```ts
   * // A pool of 10: attempts never hold more than 8 (2 are left for reads), one tenant's 4.
   * createIdempotency({ driver, concurrency: { total: 8, perScope: 4, outside: 4, queueMs: 2_000 } });
   * ```
   */
  concurrency?: ConcurrencyOptions;
  /** Tests only: where a crash or an outage is simulated. */
  faults?: IdempotencyFaults;
}

/** What `createIdempotency` makes: the runner the builder option takes, and the tables' upkeep. */
export interface Idempotency extends IdempotentExecutor {
  /**
   * Runs `verify()`, then creates the tables (and indexes) if they are missing. The same SQL ships
   * as `sql/schema.sql`.
   */
  ensureSchema(): Promise<void>;
  /**
   * Refuses, with an error naming the fix, a setup the plugin cannot keep its promise on: a
   * database that is not PostgreSQL (see SUPPORTED_ENGINES), or one under which an attempt's
   * queries would not all run in its transaction (see the driver's `verify`). Call it at start
   * when the tables are migrated otherwise.
   */
  verify(): Promise<void>;
  readonly tables: TableLayout;
  readonly ttlMs: number;
}

/** The exactly-once runner over one database. */
export function createIdempotency<Tx>(options: IdempotencyOptions<Tx>): Idempotency {
  const ttlMs = durationMs(options.ttl ?? "24h");
  const waitMs = options.waitMs ?? 10_000;
  const leaseMs = options.leaseMs ?? 30_000;
  const tables = { ...DEFAULT_TABLES, ...options.tables };
  const logger = options.logger ?? { warn: (details, message) => console.warn(message, details) };
  const driver = options.driver as IdempotencyDriver;
  driver.configure?.({ lockTimeoutMs: waitMs, leaseMs });
  const store = new RecordStore(driver, ttlMs, tables);
  const given = options.encryptionKey;
  const keys = given === undefined ? [] : typeof given === "string" || given instanceof Uint8Array ? [given] : given;
  const executor = new IdempotentExecutor({
    driver,
    store,
    codec: new OutcomeCodec(
      keys.length === 0
        ? undefined
        : new OutcomeCipher(keys.map((key) => (typeof key === "string" ? Buffer.from(key, "base64") : Buffer.from(key)))),
      { decodeLegacy: options.decodeLegacy, values: valueClasses(options) },
    ),
    cache: new OutcomeCache(options.cache),
    counts: new PendingCounts(store, logger),
    metrics: options.metrics ?? noMetrics,
    logger,
    waitMs,
    leaseMs,
    faults: options.faults,
    admission: options.concurrency && new Admission(options.concurrency),
  });
  return Object.assign(executor, {
    tables,
    ttlMs,
    async verify() {
      await assertPostgres((text) => driver.query(text));
      await driver.verify?.();
    },
    async ensureSchema() {
      await this.verify();
      for (const statement of schemaSql(tables).split(";\n")) {
        if (statement.trim()) await driver.query(statement);
      }
    },
  });
}

/**
 * The adopter's value classes, then the driver's (`prismaDriver` brings Prisma's Decimal) under
 * names the adopter did not take.
 */
function valueClasses(options: { driver: object; values?: readonly ValueClass[] }): ValueClass[] {
  const own = options.values ?? [];
  const fromDriver = (options.driver as IdempotencyDriver).values ?? [];
  const taken = new Set(own.map((value) => value.name));
  return [...own, ...fromDriver.filter((value) => !taken.has(value.name))];
}

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

function durationMs(value: number | string): number {
  const match = typeof value === "string" ? /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(value) : undefined;
  const ms = typeof value === "number" ? value : match ? Number(match[1]) * UNITS[match[2]!]! : Number.NaN;
  if (!Number.isFinite(ms) || ms <= 0) throw new Error(`not a duration: ${String(value)} (milliseconds, or such as "24h")`);
  return ms;
}
