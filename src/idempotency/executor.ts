import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { runTransaction, type TransactionClient } from "../db/transaction.ts";
import type { PrismaClient } from "../generated/prisma/client.ts";
import { UserError, type UserErrorClass } from "../schema/errors.ts";
import { clientMutationIdInUse, clientMutationIdReused } from "./errors.ts";
import type { IdempotencyMetrics } from "./metrics.ts";
import type { OutcomeCache } from "./outcome-cache.ts";
import type { Outcome, OutcomeCodec, SealedOutcome } from "./outcome-codec.ts";
import type { PendingCounts } from "./pending-counts.ts";
import { type RecordRef, type RecordStore, slotOf } from "./record-store.ts";
import { sweepKey } from "./sweeper.ts";

export type ExecutionStatus = "EXECUTED" | "REPLAYED";

export interface IdempotentRequest extends RecordRef {
  mutation: string;
  fingerprint: string;
  /** The outcome holds secrets: encrypt it at rest. */
  sensitive: boolean;
  errorClasses: readonly UserErrorClass[];
  /** The side effects, run at most once per key, in the transaction that stores the outcome. */
  execute(tx: TransactionClient, scope: ExecutionScope): Promise<Record<string, unknown>>;
}

/** What the transaction offers the mutation besides its client. */
export interface ExecutionScope {
  /**
   * Marks the work so far as kept even if the mutation then answers with a UserError: that answer
   * rolls back only what came after (housekeeping that must stick, such as expiring a hold).
   */
  checkpoint(): Promise<void>;
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

/** What the resolvers run mutations through: the executor below, or the benchmark's baseline without it. */
export interface MutationRunner {
  run(request: IdempotentRequest): Promise<IdempotentResult>;
  /** Replays this process counted but has not yet added to the record. */
  replaysNotStored(ref: RecordRef): number;
  flushCounts(): Promise<void>;
  close(): Promise<void>;
}

export interface ExecutorOptions {
  prisma: PrismaClient;
  store: RecordStore;
  codec: OutcomeCodec;
  cache: OutcomeCache;
  counts: PendingCounts;
  metrics: IdempotencyMetrics;
  logger: Logger;
  waitMs: number;
  leaseMs: number;
  faults?: IdempotencyFaults;
}

/** A key this process is claiming, waiting for or executing; its duplicates here wait on it. */
interface Flight {
  fingerprint: string;
  /** The stored outcome once there is one; undefined when the attempt ended without one. */
  done: Promise<SealedOutcome | undefined>;
}

const POLL_MIN_MS = 10;
const POLL_MAX_MS = 100;

/** Runs each mutation at most once per (workspace, key), however many servers and retries race. */
export class IdempotentExecutor implements MutationRunner {
  private readonly flights = new Map<string, Flight>();

  constructor(private readonly options: ExecutorOptions) {}

  async run(request: IdempotentRequest): Promise<IdempotentResult> {
    const cached = this.options.cache.get(request);
    if (cached) return this.answer(request, cached.fingerprint, cached.sealed);
    const deadline = Date.now() + this.options.waitMs;
    for (;;) {
      const flight = this.flights.get(slotOf(request));
      if (!flight) return this.drive(request, deadline, true);
      // Until its claim returns, a flight's input is not the stored one: only the database can
      // tell which of two different inputs came first, so a different one asks it directly.
      if (flight.fingerprint !== request.fingerprint) return this.drive(request, deadline, false);
      const sealed = await this.join(flight, request, deadline);
      if (sealed) return this.answer(request, request.fingerprint, sealed);
    }
  }

  replaysNotStored(ref: RecordRef): number {
    return this.options.counts.replaysNotStored(ref);
  }

  flushCounts(): Promise<void> {
    return this.options.counts.flush();
  }

  close(): Promise<void> {
    return this.options.counts.close();
  }

  /**
   * The first request for a key in this process claims it, waits for it or executes it; every
   * duplicate arriving meanwhile joins this flight rather than asking the database again.
   */
  private async drive(request: IdempotentRequest, deadline: number, lead: boolean): Promise<IdempotentResult> {
    const { store, metrics } = this.options;
    let settle!: (sealed: SealedOutcome | undefined) => void;
    const flight: Flight = { fingerprint: request.fingerprint, done: new Promise((resolve) => (settle = resolve)) };
    if (lead) this.flights.set(slotOf(request), flight);
    let sealed: SealedOutcome | undefined;
    try {
      for (;;) {
        const token = randomUUID();
        const claim = await this.freeingOnFailure(store.claim(request, request.mutation, request.fingerprint, token), request, token);
        switch (claim.kind) {
          case "acquired":
            return await this.execute(request, token, (stored) => (sealed = stored));
          case "abandoned":
            if (await this.freeingOnFailure(store.takeOver(request, request.mutation, request.fingerprint, token), request, token)) {
              return await this.execute(request, token, (stored) => (sealed = stored));
            }
            break;
          case "completed":
            this.options.cache.set(request, { fingerprint: claim.fingerprint, sealed: claim.sealed, expiresAt: claim.expiresAt });
            if (claim.fingerprint === request.fingerprint) sealed = claim.sealed;
            return this.answer(request, claim.fingerprint, claim.sealed);
          case "expired":
            // Its counts go with it into the daily totals, not onto the record that replaces it.
            await this.options.counts.flush();
            await sweepKey(this.options.prisma, request);
            break;
          case "in-progress":
            if (claim.fingerprint !== request.fingerprint) throw this.conflict(request);
            if (!(await this.waitWhileHeld(request, deadline))) {
              metrics.conflicts.inc({ mutation: request.mutation });
              throw clientMutationIdInUse(retryAfter(claim.leaseRemainingMs));
            }
        }
      }
    } finally {
      if (lead) this.flights.delete(slotOf(request));
      settle(sealed);
    }
  }

  private async execute(request: IdempotentRequest, token: string, stored: (sealed: SealedOutcome) => void): Promise<IdempotentResult> {
    const { metrics, cache } = this.options;
    const labels = { mutation: request.mutation };
    metrics.inFlight.inc(labels);
    try {
      const { sealed, outcome, expiresAt } = await this.executeOnce(request, token);
      stored(sealed);
      cache.set(request, { fingerprint: request.fingerprint, sealed, expiresAt });
      metrics.executions.inc(labels);
      return { status: "EXECUTED", outcome };
    } finally {
      metrics.inFlight.dec(labels);
    }
  }

  private async executeOnce(
    request: IdempotentRequest,
    token: string,
  ): Promise<{ sealed: SealedOutcome; outcome: Outcome; expiresAt: number }> {
    const { prisma, store, leaseMs, waitMs, faults } = this.options;
    try {
      return await runTransaction(
        prisma,
        async (tx) => {
          let checkpointed = false;
          const checkpoint = async () => {
            await tx.$executeRawUnsafe("SAVEPOINT onceql_checkpoint");
            checkpointed = true;
          };
          let outcome: Outcome;
          try {
            outcome = { ok: true, payload: await request.execute(tx, { checkpoint }) };
          } catch (error) {
            if (!checkpointed || !this.isExpected(error, request)) throw error;
            // Keep what came before the checkpoint; the answer is stored with it, in this transaction.
            await tx.$executeRawUnsafe("ROLLBACK TO SAVEPOINT onceql_checkpoint");
            outcome = { ok: false, error };
          }
          const sealed = this.seal(outcome, request);
          await faults?.beforeCommit?.(request.mutation);
          const expiresAt = await store.complete(tx, request, token, sealed);
          if (expiresAt === undefined) throw new LeaseLostError();
          return { sealed, outcome, expiresAt };
        },
        { timeoutMs: leaseMs, maxWaitMs: Math.max(waitMs, 2_000) },
      );
    } catch (error) {
      if (this.isExpected(error, request)) {
        // The transaction rolled back whatever the mutation had begun; its answer is still its outcome.
        const sealed = this.seal({ ok: false, error }, request);
        const expiresAt = await store.complete(prisma, request, token, sealed);
        if (expiresAt !== undefined) return { sealed, outcome: { ok: false, error }, expiresAt };
        throw clientMutationIdInUse(retryAfter(0));
      }
      if (error instanceof LeaseLostError) throw clientMutationIdInUse(retryAfter(0));
      await this.release(request, token);
      throw error;
    }
  }

  /** A UserError this mutation declares: an answer to store, not a failure. */
  private isExpected(error: unknown, request: IdempotentRequest): error is UserError {
    return error instanceof UserError && request.errorClasses.some((errorClass) => error instanceof errorClass);
  }

  /** A step that may have taken the key with its answer lost: on failure, free what it may hold. */
  private async freeingOnFailure<T>(step: Promise<T>, request: IdempotentRequest, token: string): Promise<T> {
    try {
      return await step;
    } catch (error) {
      await this.release(request, token);
      throw error;
    }
  }

  /**
   * Frees the key after a failed attempt, before the failure is answered, so a retry runs afresh.
   * The failure is often the database itself: then this keeps trying for a couple of seconds in
   * the background, and after that the lease runs out on its own.
   */
  private async release(request: IdempotentRequest, token: string): Promise<void> {
    try {
      await this.options.store.release(request, token);
    } catch {
      void this.retryRelease(request, token);
    }
  }

  private async retryRelease(request: IdempotentRequest, token: string): Promise<void> {
    const delays = [100, 300, 700, 1_500];
    for (const [attempt, delayMs] of delays.entries()) {
      await sleep(delayMs);
      try {
        await this.options.store.release(request, token);
        return;
      } catch (error) {
        if (attempt === delays.length - 1)
          this.options.logger.warn(
            { err: error, clientMutationId: request.clientMutationId },
            "could not release key; its lease will run out",
          );
      }
    }
  }

  /** Waits for this process' own attempt at the key, with the same input; its outcome once stored. */
  private async join(flight: Flight, request: IdempotentRequest, deadline: number): Promise<SealedOutcome | undefined> {
    const timer = new AbortController();
    const timeout = sleep<typeof timedOut>(Math.max(0, deadline - Date.now()), timedOut, { signal: timer.signal }).catch(
      (): typeof timedOut => timedOut,
    );
    const sealed = await Promise.race([flight.done, timeout]).finally(() => timer.abort());
    if (sealed === timedOut) {
      this.options.metrics.conflicts.inc({ mutation: request.mutation });
      throw clientMutationIdInUse(retryAfter(0));
    }
    return sealed;
  }

  /** A stored outcome answers a retry with the same input, and refuses any other. */
  private answer(request: IdempotentRequest, storedFingerprint: string, sealed: SealedOutcome): IdempotentResult {
    if (storedFingerprint !== request.fingerprint) throw this.conflict(request);
    this.options.metrics.replays.inc({ mutation: request.mutation });
    this.options.counts.add(request, "replays");
    return { status: "REPLAYED", outcome: this.open(sealed, request) };
  }

  private conflict(request: IdempotentRequest): Error {
    this.options.metrics.conflicts.inc({ mutation: request.mutation });
    this.options.counts.add(request, "conflicts");
    return clientMutationIdReused();
  }

  /** Polls, with backoff, until another process lets go of the key; false at the deadline. */
  private async waitWhileHeld(request: IdempotentRequest, deadline: number): Promise<boolean> {
    let delay = POLL_MIN_MS;
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      await sleep(Math.min(delay, remaining));
      if (!(await this.options.store.isHeld(request))) return true;
      delay = Math.min(delay * 1.5, POLL_MAX_MS);
    }
  }

  private seal(outcome: Outcome, request: IdempotentRequest): SealedOutcome {
    return this.options.codec.seal(outcome, { sensitive: request.sensitive, boundTo: boundTo(request) });
  }

  private open(sealed: SealedOutcome, request: IdempotentRequest): Outcome {
    return this.options.codec.open(sealed, { boundTo: boundTo(request), errorClasses: request.errorClasses });
  }
}

class LeaseLostError extends Error {
  constructor() {
    super("the attempt outlived its lease and another attempt took the key over");
  }
}

const timedOut: unique symbol = Symbol("timed out");

function boundTo(ref: RecordRef): string {
  return `${ref.workspaceId}:${ref.clientMutationId}`;
}

function retryAfter(leaseRemainingMs: number): number {
  return Math.round(Math.min(Math.max(leaseRemainingMs, 100), 5_000));
}
