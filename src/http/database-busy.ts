import { GraphQLError } from "graphql";

export const DATABASE_BUSY_RETRY_AFTER_MS = 1_000;

/**
 * The database answered but could not do the work in time or at all: a lock it waited for past
 * lock_timeout, a statement or attempt past its lease, a full disk. Retryable, with the same key.
 */
export function databaseBusy(): GraphQLError {
  return new GraphQLError(
    "The database is too busy (or too full) to do this right now. Retry with the same clientMutationId after retryAfterMs: a mutation still runs at most once.",
    { extensions: { code: "DATABASE_BUSY", retryAfterMs: DATABASE_BUSY_RETRY_AFTER_MS, http: { status: 503 } } },
  );
}
