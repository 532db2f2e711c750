import { setTimeout as sleep } from "node:timers/promises";
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { TransactionClient } from "../generated/prisma/internal/prismaNamespace.ts";

export type { TransactionClient };

/** SQLSTATEs after which the whole transaction may simply run again. */
const RETRYABLE = new Set(["40001", "40P01"]);

export interface TransactionOptions {
  /** The transaction is rolled back after this long. */
  timeoutMs: number;
  /** How long to wait for a connection (PGlite queues every transaction on its one connection). */
  maxWaitMs: number;
  /** Attempts in all, on serialization failures and deadlocks. */
  attempts?: number;
}

/**
 * Runs `work` in one READ COMMITTED transaction, and runs it again (at most 3 attempts, with
 * jitter) when the database aborted it for a deadlock or a serialization failure.
 */
export async function runTransaction<T>(
  prisma: PrismaClient,
  work: (tx: TransactionClient) => Promise<T>,
  options: TransactionOptions,
): Promise<T> {
  const attempts = options.attempts ?? 3;
  for (let attempt = 1; ; attempt++) {
    try {
      return await prisma.$transaction(work, { timeout: options.timeoutMs, maxWait: options.maxWaitMs });
    } catch (error) {
      if (attempt >= attempts || !isRetryableConflict(error)) throw error;
      await sleep(10 * 2 ** attempt * (0.5 + Math.random()));
    }
  }
}

export function isRetryableConflict(error: unknown): boolean {
  const state = sqlState(error);
  return (state !== undefined && RETRYABLE.has(state)) || (error as { code?: string })?.code === "P2034";
}

/** The SQLSTATE behind a Prisma driver-adapter error, when there is one. */
export function sqlState(error: unknown): string | undefined {
  const candidate = error as {
    code?: unknown;
    meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } };
    cause?: { originalCode?: unknown };
  };
  const code = candidate?.meta?.driverAdapterError?.cause?.originalCode ?? candidate?.cause?.originalCode;
  if (typeof code === "string") return code;
  return typeof candidate?.code === "string" && /^[0-9A-Z]{5}$/.test(candidate.code) ? candidate.code : undefined;
}
