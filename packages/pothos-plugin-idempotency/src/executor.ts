import { setTimeout as sleep } from "node:timers/promises";
import type { Admission } from "./admission.ts";
import { answerClassOf } from "./answers.ts";
import { isRetryableConflict } from "./database-errors.ts";
import type { IdempotencyDriver, OpenTransaction } from "./driver.ts";
import { commitFailed } from "./error-outcome.ts";
import { clientMutationIdInUse, clientMutationIdReused, databaseBusy } from "./errors.ts";
import { differingFromKept, keptInput } from "./fingerprint.ts";
import type { OutcomeCache } from "./outcome-cache.ts";
import type { Outcome, OutcomeCodec, SealedOutcome } from "./outcome-codec.ts";
import type { PendingCounts } from "./pending-counts.ts";
import { type Claim, type RecordRef, type RecordStore, type SweepResult, slotOf } from "./record-store.ts";
import type {
  ExecutionScope,
  IdempotencyFaults,
  IdempotencyLogger,
  IdempotencyMetrics,
  IdempotentRequest,
  IdempotentResult,
  MutationRunner,
} from "./types.ts";

export interface ExecutorOptions {
  driver: IdempotencyDriver;
  store: RecordStore;
  codec: OutcomeCodec;
  cache: OutcomeCache;
  counts: PendingCounts;
  metrics: IdempotencyMetrics;
  logger: IdempotencyLogger;
  waitMs: number;
  /** The longest one attempt may run; past it, it is rolled back rather than committed. */
  leaseMs: number;
  faults?: IdempotencyFaults;
  /** Limits on attempts holding connections at once (see ConcurrencyOptions); none without it. */
  admission?: Admission;
}

/** A stored outcome with what is needed to answer a retry or a reuse of its key. */
interface Stored {
  mutation: string;
  fingerprint: string;
  sealed: SealedOutcome;
  input: SealedOutcome | null;
}

/** A key this process is claiming or executing; its duplicates here wait on it. */
interface Flight {
  fingerprint: string;
  mutation: string;
  startedAt: Date;
  /** The stored outcome once there is one; undefined when the attempt ended without one. */
  done: Promise<Stored | undefined>;
}

/** Attempts in all when the database aborts one for a deadlock or a serialization failure. */
const ATTEMPTS = 3;
/** When a duplicate that waited its fill should come back. */
const IN_USE_RETRY_MS = 250;

/**
 * Runs each mutation at most once per (workspace, key), however many servers and retries race.
 * An attempt is one database transaction: it takes the key's lock, runs the mutation, and writes
 * the outcome with its effects. Nothing of it outlives a failure: a rollback, or a connection that
 * dies with its process, leaves the key free for the next retry at once.
 */
export class IdempotentExecutor implements MutationRunner {
  private readonly flights = new Map<string, Flight>();

  constructor(private readonly options: ExecutorOptions) {
    // After a failover or a restore the database may have lost outcomes this process cached: every
    // server then answers a key from what its database holds, and all answer it alike.
    options.driver.onDiscontinuity?.((reason) => {
      options.cache.clear();
      options.metrics.cacheResets.inc();
      options.logger.warn({ reason }, "dropped the cache of stored outcomes: the database may no longer hold them");
    });
  }

  async run(request: IdempotentRequest): Promise<IdempotentResult> {
    const cached = this.options.cache.get(request);
    if (cached) return this.answer(request, cached);
    const deadline = Date.now() + this.options.waitMs;
    for (;;) {
      const flight = this.flights.get(slotOf(request));
      if (!flight) return this.drive(request, true);
      // Until its claim returns, a flight's input is not the stored one: only the database can
      // tell which of two different inputs came first, so a different one asks it directly.
      if (flight.fingerprint !== request.fingerprint) return this.drive(request, false);
      const stored = await this.join(flight, request, deadline);
      if (stored) return this.answer(request, stored);
    }
  }

  replaysNotStored(ref: RecordRef): number {
    return this.options.counts.replaysNotStored(ref);
  }

  async running(ref: RecordRef): Promise<{ mutation: string; startedAt: Date } | undefined> {
    const flight = this.flights.get(slotOf(ref));
    if (flight) return { mutation: flight.mutation, startedAt: flight.startedAt };
    return this.options.driver.shared ? this.options.store.running(ref) : undefined;
  }

  flushCounts(): Promise<void> {
    return this.options.counts.flush();
  }

  /** Stores the counts still in memory, then deletes expired records (see RecordStore.sweepExpired). */
  async sweep(options: { batchSize?: number } = {}): Promise<SweepResult> {
    await this.flushCounts();
    return this.options.store.sweepExpired(options);
  }

  close(): Promise<void> {
    return this.options.counts.close();
  }

  /**
   * The first request for a key in this process runs an attempt; every duplicate arriving
   * meanwhile joins this flight rather than asking the database again.
   */
  private async drive(request: IdempotentRequest, lead: boolean): Promise<IdempotentResult> {
    let settle!: (stored: Stored | undefined) => void;
    const flight: Flight = {
      fingerprint: request.fingerprint,
      mutation: request.mutation,
      startedAt: new Date(),
      done: new Promise((resolve) => (settle = resolve)),
    };
    if (lead) this.flights.set(slotOf(request), flight);
    let stored: Stored | undefined;
    let leave: (() => void) | undefined;
    try {
      // Here, not in run(): a replay from the cache and a duplicate joining this flight hold no connection.
      leave = await this.options.admission?.admit(request);
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.attempt(request, (outcome) => (stored = outcome));
        } catch (error) {
          if (attempt >= ATTEMPTS || !isRetryableConflict(error)) throw error;
          await sleep(10 * 2 ** attempt * (0.5 + Math.random()));
        }
      }
    } finally {
      leave?.();
      if (lead) this.flights.delete(slotOf(request));
      settle(stored);
    }
  }

  /** One transaction: claim the key, then replay what it holds, or run the mutation and store its outcome. */
  private async attempt(request: IdempotentRequest, stored: (outcome: Stored) => void, ahead = true): Promise<IdempotentResult> {
    const { driver, store, metrics } = this.options;
    const t = await driver.begin();
    let open = true;
    try {
      // A mutation whose effects all stay in the database starts with its claim in flight: its
      // first statement goes out behind the claim, and runs only if the key is free.
      const claimedAhead =
        ahead && request.onlyDatabaseEffects ? store.claimAhead(t, request, request.mutation, request.fingerprint) : undefined;
      if (claimedAhead) {
        const running = this.start(t, request);
        const claim = await claimedAhead.catch(async (error: unknown) => {
          await running.settled;
          throw error;
        });
        if (claim.kind === "new") {
          const result = await this.execute(t, request, stored, running);
          open = false;
          return result;
        }
        // What it ran failed on the aborted transaction (or sent nothing): dropped, never answered.
        await running.settled;
        open = false;
        await t.rollback();
        if (claim.kind === "completed") return this.found(request, claim, stored);
        // Taken, running elsewhere, or expired: settled by an attempt that claims first.
        return await this.attempt(request, stored, false);
      }
      // Any other lock or statement timeout of the claim (a locked table) is the database's, not
      // the key's: it is answered DATABASE_BUSY.
      const claim = await store.claim(t, request, request.mutation, request.fingerprint);
      switch (claim.kind) {
        case "completed": {
          open = false;
          await t.rollback();
          return this.found(request, claim, stored);
        }
        case "held":
          metrics.conflicts.inc({ mutation: request.mutation });
          throw clientMutationIdInUse(IN_USE_RETRY_MS);
        case "conflicting":
          // Its input is not readable until it commits: which fields differ cannot be said yet.
          throw this.conflict(
            request,
            { mutation: claim.mutation, fingerprint: "", sealed: { text: "", encrypted: false }, input: null },
            "running",
          );
        case "stale":
          // Its counts go into the daily totals with it (those still in memory land on its successor).
          await store.sweepKey(t, request);
          // The sweep is not the mutation's: an answering UserError rolls back to after it (else the
          // old record would be back, and the new one could not be stored).
          await t.send("SAVEPOINT onceql_mutation");
          break;
      }
      const result = await this.execute(t, request, stored, this.start(t, request));
      open = false;
      return result;
    } finally {
      if (open) await t.rollback();
    }
  }

  /** A completed record found by a claim: cached, and answered (a replay, or a reuse refused). */
  private found(
    request: IdempotentRequest,
    claim: Extract<Claim, { kind: "completed" }>,
    stored: (outcome: Stored) => void,
  ): IdempotentResult {
    const found: Stored = { mutation: claim.mutation, fingerprint: claim.fingerprint, sealed: claim.sealed, input: claim.input };
    this.options.cache.set(request, { ...found, expiresAt: claim.expiresAt });
    if (claim.fingerprint === request.fingerprint) stored(found);
    return this.answer(request, found);
  }

  /** Starts the mutation in the attempt's transaction; `settled` never rejects. */
  private start(t: OpenTransaction, request: IdempotentRequest): Running {
    const running: Running = {
      savepoint: "onceql_mutation",
      found: false,
      startedAt: Date.now(),
      settled: undefined as unknown as Running["settled"],
    };
    const scope: ExecutionScope = {
      sql: (text, values = []) => t.query(text, values),
      checkpoint: async () => {
        await t.send("SAVEPOINT onceql_checkpoint");
        running.savepoint = "onceql_checkpoint";
      },
      foundEarlier: (answer) => {
        running.found = true;
        return answer;
      },
    };
    running.settled = t
      .run((tx) => request.execute(tx, scope))
      .then(
        (payload) => ({ ok: true as const, payload }),
        (error: unknown) => ({ ok: false as const, error }),
      );
    return running;
  }

  /** Awaits the mutation started in the claimed transaction and commits its outcome with its effects. */
  private async execute(
    t: OpenTransaction,
    request: IdempotentRequest,
    stored: (outcome: Stored) => void,
    running: Running,
  ): Promise<IdempotentResult> {
    const { store, metrics, cache, faults } = this.options;
    const labels = { mutation: request.mutation };
    const started = running.startedAt;
    metrics.inFlight.inc(labels);
    try {
      let outcome: Outcome;
      let rollbackTo: string | undefined;
      const settled = await running.settled;
      if (settled.ok) {
        outcome = { ok: true, payload: settled.payload };
      } else {
        const error = settled.error;
        if (!this.isExpected(error, request)) throw error;
        // The answer is stored in this transaction; what the mutation had begun is rolled back.
        outcome = { ok: false, error };
        rollbackTo = running.savepoint;
      }
      const found = running.found;
      const sealed = this.seal(outcome, request);
      const input = this.sealInput(request, outcome);
      await faults?.beforeCommit?.(request.mutation);
      if (Date.now() - started > this.options.leaseMs) {
        this.options.logger.warn(
          { mutation: request.mutation, leaseMs: this.options.leaseMs },
          "the attempt ran longer than ONCEQL_IDEMPOTENCY_LEASE_MS and was rolled back",
        );
        throw databaseBusy();
      }
      const expiresAt = await store
        .complete(t, request, { mutation: request.mutation, fingerprint: request.fingerprint, sealed, input, rollbackTo })
        .catch((error: unknown) => {
          throw commitFailed(error);
        });
      if (expiresAt === undefined) throw clientMutationIdInUse(IN_USE_RETRY_MS);
      const record: Stored = { mutation: request.mutation, fingerprint: request.fingerprint, sealed, input };
      stored(record);
      cache.set(request, { ...record, expiresAt });
      if (found) return this.replayed(request, outcome);
      metrics.executions.inc(labels);
      return { status: "EXECUTED", outcome };
    } finally {
      metrics.inFlight.dec(labels);
    }
  }

  /** An error this mutation declares: an answer to store, not a failure. */
  private isExpected(error: unknown, request: IdempotentRequest): error is Error {
    return answerClassOf(error, request.errorClasses) !== undefined;
  }

  /** Waits for this process' own attempt at the key, with the same input; its outcome once stored. */
  private async join(flight: Flight, request: IdempotentRequest, deadline: number): Promise<Stored | undefined> {
    const timer = new AbortController();
    const timeout = sleep<typeof timedOut>(Math.max(0, deadline - Date.now()), timedOut, { signal: timer.signal }).catch(
      (): typeof timedOut => timedOut,
    );
    const stored = await Promise.race([flight.done, timeout]).finally(() => timer.abort());
    if (stored === timedOut) {
      this.options.metrics.conflicts.inc({ mutation: request.mutation });
      throw clientMutationIdInUse(IN_USE_RETRY_MS);
    }
    return stored;
  }

  /** A stored outcome answers a retry with the same input, and refuses any other, saying what differs. */
  private answer(request: IdempotentRequest, stored: Stored): IdempotentResult {
    if (stored.fingerprint !== request.fingerprint) throw this.conflict(request, stored);
    return this.replayed(request, this.open(stored.sealed, request));
  }

  /** An answer that ran nothing: counted as a replay, in the metrics and on the key's record. */
  private replayed(request: IdempotentRequest, outcome: Outcome): IdempotentResult {
    this.options.metrics.replays.inc({ mutation: request.mutation });
    this.options.counts.add(request, "replays");
    return { status: "REPLAYED", outcome };
  }

  private conflict(request: IdempotentRequest, stored: Stored, first: "stored" | "running" = "stored"): Error {
    this.options.metrics.conflicts.inc({ mutation: request.mutation });
    this.options.counts.add(request, "conflicts");
    // Fields of two different mutations are not comparable; records from before inputs were kept have none.
    const fields =
      stored.mutation === request.mutation && stored.input
        ? differingFromKept(this.options.codec.openText(stored.input, boundTo(request)), request.canonicalInput)
        : [];
    return clientMutationIdReused(request.mutation, { originalMutation: stored.mutation, differingFields: fields }, first);
  }

  private seal(outcome: Outcome, request: IdempotentRequest): SealedOutcome {
    return this.options.codec.seal(outcome, {
      sensitive: request.sensitive,
      boundTo: boundTo(request),
      errorClasses: request.errorClasses,
    });
  }

  private sealInput(request: IdempotentRequest, outcome: Outcome): SealedOutcome {
    const kept = keptInput(request.canonicalInput, outcome.ok ? "payload" : "refused");
    return this.options.codec.sealText(kept, { sensitive: request.sensitive, boundTo: boundTo(request) });
  }

  private open(sealed: SealedOutcome, request: IdempotentRequest): Outcome {
    return this.options.codec.open(sealed, { boundTo: boundTo(request), errorClasses: request.errorClasses });
  }
}

/** A mutation started in an attempt's transaction. */
interface Running {
  /** Where an answering UserError rolls back to: the claim's savepoint, or the mutation's checkpoint. */
  savepoint: string;
  /** It answered with what an earlier run of its key made (see ExecutionScope.foundEarlier). */
  found: boolean;
  startedAt: number;
  settled: Promise<{ ok: true; payload: Record<string, unknown> } | { ok: false; error: unknown }>;
}

const timedOut: unique symbol = Symbol("timed out");

function boundTo(ref: RecordRef): string {
  return `${ref.scope}:${ref.clientMutationId}`;
}
