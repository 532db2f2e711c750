import type { InputFieldMap, InputShapeFromFields, SchemaTypes, ShapeFromTypeParam, TypeParam } from "@pothos/core";
import type { GraphQLResolveInfo } from "graphql";
import type { ErrorClass, Outcome } from "./outcome-codec.ts";
import type { RecordRef } from "./record-store.ts";

/** What became of a mutation field's key: it ran now, or an earlier run's outcome answered. */
export type ExecutionStatus = "EXECUTED" | "REPLAYED";

/** One entry of `extensions.idempotency`. */
export interface MutationLogEntry {
  field: string;
  clientMutationId: string;
  status: ExecutionStatus;
}

/** What the wrapper says of itself: pino's, or any logger with this method. */
export interface IdempotencyLogger {
  warn(details: object, message: string): void;
}

/** A counter or gauge labelled by mutation: prom-client's fit (see `prometheusMetrics`). */
export interface MutationCounter {
  inc(labels: { mutation: string }): void;
}

export interface MutationGauge extends MutationCounter {
  dec(labels: { mutation: string }): void;
}

/** What the wrapper counts. `prometheusMetrics(registry)` registers them with prom-client. */
export interface IdempotencyMetrics {
  /** Mutations that ran (their outcome was stored). */
  executions: MutationCounter;
  /** Retries answered with a stored outcome. */
  replays: MutationCounter;
  /** Requests refused: key reused with another input, or still in use. */
  conflicts: MutationCounter;
  /** Mutations running in this process. */
  inFlight: MutationGauge;
  /** Times the cache of stored outcomes was dropped (the database may have lost what it held). */
  cacheResets: { inc(): void };
}

const uncounted = { inc: () => {}, dec: () => {} };

/** Counts nothing: the default. */
export const noMetrics: IdempotencyMetrics = {
  executions: uncounted,
  replays: uncounted,
  conflicts: uncounted,
  inFlight: uncounted,
  cacheResets: uncounted,
};

/** A payload field: its type, or `{ type, nullable: true }` for one that may be null. */
export type OutputFieldType<Types extends SchemaTypes> = TypeParam<Types> | { type: TypeParam<Types>; nullable: true };
export type OutputFieldTypes<Types extends SchemaTypes> = Record<string, OutputFieldType<Types>>;

/** The object a mutation's `run` returns for these payload fields. */
export type PayloadShape<Types extends SchemaTypes, P extends OutputFieldTypes<Types>> = {
  [K in keyof P]: P[K] extends { type: infer T extends TypeParam<Types>; nullable: true }
    ? ShapeFromTypeParam<Types, T, true>
    : P[K] extends TypeParam<Types>
      ? ShapeFromTypeParam<Types, P[K], false>
      : never;
};

/** What a mutation's `run` gets besides its input: the attempt's transaction, and what only this key gives. */
export interface IdempotentMutationContext<Tx> {
  /** The attempt's transaction: its effects commit with the stored outcome, or not at all. */
  tx: Tx;
  /** Whose keys these are (the builder option `scope`). */
  scope: string;
  /**
   * A statement in the attempt's transaction past `tx`'s client (`$1`-style parameters; rows as
   * the database's own driver parses them: node-postgres or PGlite), for a hot statement whose
   * cost is the client's rather than the database's.
   */
  sql<Row = Record<string, unknown>>(text: string, values?: readonly unknown[]): Promise<Row[]>;
  /**
   * An id that only this clientMutationId with this input gives, in this scope: a UUIDv5 under
   * `namespace` (a UUID of your own, one per kind of row) of the scope, the key and the input's
   * fingerprint. A row made under it is how a retry past the TTL, when the stored outcome is gone,
   * finds what its first run made (then `foundEarlier`); the same key with another input gets
   * other ids, and is another operation.
   */
  idFor(namespace: string): string;
  /**
   * Keeps the work so far even if the mutation then answers with one of its errors: that answer
   * rolls back only what came after (housekeeping that must stick, such as expiring a hold).
   */
  checkpoint(): Promise<void>;
  /**
   * Says the answer was found by `idFor` ids, made by an earlier run of this key and input whose
   * stored outcome expired: nothing ran again, so it is REPLAYED. Returns what it is given.
   */
  foundEarlier<T>(answer: T): T;
}

export interface IdempotentMutationFieldOptions<
  Types extends SchemaTypes,
  Fields extends InputFieldMap,
  Payload extends OutputFieldTypes<Types>,
> {
  description?: string;
  /** The input's fields; `clientMutationId: String!` is added. */
  inputFields: (t: PothosSchemaTypes.InputFieldBuilder<Types, "InputObject">) => Fields;
  /** The payload's fields and their types; `clientMutationId` is added. */
  outputFields: Payload;
  /**
   * The errors that are answers (`@pothos/plugin-errors`, which must be installed): members of
   * the `NameResult` union, stored and replayed like a payload, with their subclasses. The
   * builder's `errors.defaultTypes` are answers too, except `Error` and the runtime's and drivers'
   * own classes: an error of those is a failure (NOT_STORED, the key freed), whatever lists it.
   */
  errors?: { types?: ErrorClass[] };
  /** The payload holds a secret: its stored outcome (and input) is encrypted at rest. */
  sensitive?: boolean;
  /**
   * Say so when every effect of `run` is a statement of its transaction: no call to another
   * service, no message, no file, nothing outside the database. Then `run` starts while the key's
   * claim is still on its way (on a driver that pipelines, `pg` with `pipeline: true`), and its
   * first statement goes out behind the claim: one round trip fewer per first execution. When the
   * key turns out not to be free, what `run` sent fails unexecuted and its result is dropped. Off by
   * default: an effect outside the database could happen for a key another attempt holds.
   */
  onlyDatabaseEffects?: boolean;
  /** The mutation: runs at most once per key, in the transaction that stores its outcome. */
  run: (
    input: InputShapeFromFields<Fields>,
    mutation: IdempotentMutationContext<Types["Idempotency"]["Tx"]>,
    context: Types["Context"],
    info: GraphQLResolveInfo,
  ) => Promise<PayloadShape<Types, Payload>>;
}

/** What a mutation field did, told once per field (for a log line). */
export interface MutationEvent {
  /** The mutation's field name. */
  mutation: string;
  scope: string;
  /** At most its first 255 characters. */
  clientMutationId: string;
  /** EXECUTED, REPLAYED, the error code without IDEMPOTENCY_KEY_ (REUSED, IN_USE, INVALID), or FAILED. */
  status: string;
  durationMs: number;
}

export interface IdempotencyPluginOptions<Types extends SchemaTypes> {
  /** What runs the mutations: made by `createIdempotency`, or per request from the context. */
  runner: MutationRunner | ((context: Types["Context"]) => MutationRunner);
  /** Whose keys these are: the same clientMutationId in two scopes is two unrelated keys. */
  scope: (context: Types["Context"]) => string;
  /**
   * The input as the mutation will see it and as it is fingerprinted (ids in one spelling, say),
   * without clientMutationId. Runs before anything else; an error thrown here is not stored.
   */
  prepareInput?: (input: Record<string, unknown>, context: Types["Context"], info: GraphQLResolveInfo) => Record<string, unknown>;
  /** Told what each mutation field did, once it is done. */
  onMutation?: (event: MutationEvent, context: Types["Context"]) => void;
}

export interface IdempotentRequest extends RecordRef {
  mutation: string;
  fingerprint: string;
  /** The input as fingerprinted (canonical JSON): kept with the record, to say what a reuse changed. */
  canonicalInput: string;
  /** The outcome holds secrets: encrypt it (and the input) at rest. */
  sensitive: boolean;
  /** The errors that are answers (stored and replayed like a payload); anything else thrown is a failure. */
  errorClasses: readonly ErrorClass[];
  /**
   * Every effect of `execute` is a statement of its transaction (no call to another service, no
   * message sent): it may start before the claim answers, its first statement going out behind
   * the claim (one round trip fewer), because a statement of a key not free is never run.
   */
  onlyDatabaseEffects?: boolean;
  /** The side effects, run at most once per key, in the transaction that stores the outcome. */
  // biome-ignore lint/suspicious/noExplicitAny: the transaction is the driver's (see IdempotencyDriver).
  execute(tx: any, scope: ExecutionScope): Promise<Record<string, unknown>>;
}

/** What the transaction offers the mutation besides its client. */
export interface ExecutionScope {
  /** A statement on the attempt's own connection, in its transaction (see IdempotentMutationContext.sql). */
  sql<Row = Record<string, unknown>>(text: string, values?: readonly unknown[]): Promise<Row[]>;
  /**
   * Marks the work so far as kept even if the mutation then answers with a UserError: that answer
   * rolls back only what came after (housekeeping that must stick, such as expiring a hold).
   */
  checkpoint(): Promise<void>;
  /**
   * Says the answer is what an earlier run of this key and input made, found by the ids only they
   * give, after that run's stored outcome expired: nothing ran again, so it is REPLAYED. It is
   * stored as the key's outcome from now on, like any answer. Returns what it is given.
   */
  foundEarlier<T>(answer: T): T;
}

export interface IdempotentResult {
  status: ExecutionStatus;
  outcome: Outcome;
}

/** Test hooks: the points where a crash or an outage is simulated. */
export interface IdempotencyFaults {
  /** Runs after the side effects, inside the transaction, before the outcome is stored and committed. */
  beforeCommit?(mutation: string): void | Promise<void>;
}

/**
 * What the mutation fields run through: the executor `createIdempotency` makes, or anything else
 * that keeps its promise (a benchmark's baseline that runs each mutation without it).
 */
export interface MutationRunner {
  run(request: IdempotentRequest): Promise<IdempotentResult>;
  /** Replays this process counted but has not yet added to the record. */
  replaysNotStored(ref: RecordRef): number;
  /** An attempt at the key running now, in this process or another sharing the database. */
  running(ref: RecordRef): Promise<{ mutation: string; startedAt: Date } | undefined>;
  flushCounts(): Promise<void>;
  close(): Promise<void>;
}
