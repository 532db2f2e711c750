import type { TransactionClient } from "../generated/prisma/internal/prismaNamespace.ts";

export type { TransactionClient };

/**
 * SQLSTATEs after which the whole transaction may simply run again: a deadlock, a serialization
 * failure, or a connection whose prepared statements were dropped or outdated behind its back (a
 * session reset, a table changed): that connection is closed, and the next attempt takes another.
 */
const RETRYABLE = new Set(["40001", "40P01", "26000"]);

/** The database aborted the transaction for a reason that running it again resolves. */
export function isRetryableConflict(error: unknown): boolean {
  const state = sqlState(error);
  if (state === "0A000") return /cached plan must not change result type/.test(String((error as Error)?.message));
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
