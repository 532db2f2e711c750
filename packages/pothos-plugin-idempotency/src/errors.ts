import { GraphQLError } from "graphql";

/** The clientMutationId is missing, too long, or has characters outside printable ASCII. */
export function invalidClientMutationId(reason: string): GraphQLError {
  return new GraphQLError(`clientMutationId ${reason}`, {
    extensions: { code: "IDEMPOTENCY_KEY_INVALID" },
  });
}

/**
 * The key was used with another input or on another mutation. Says which mutation it first ran
 * and the paths of the input fields whose values differ (none when the mutation differs); the
 * record is the caller's own workspace's, so nothing of another is ever told. `first` is where
 * that first use is: `stored`, or still `running` (nothing stored yet, its input not yet readable).
 */
export function clientMutationIdReused(
  mutation: string,
  original: { originalMutation: string; differingFields: string[] },
  first: "stored" | "running" = "stored",
): GraphQLError {
  const what =
    original.originalMutation !== mutation
      ? `on another mutation (${original.originalMutation})`
      : original.differingFields.length
        ? `with different ${original.differingFields.join(", ")}`
        : "with a different input";
  const message =
    first === "running"
      ? `Another attempt ${what} is running under this clientMutationId; nothing was executed for this one. Use a new clientMutationId for a new operation.`
      : `This clientMutationId was already used ${what}; its stored outcome is unchanged. Use a new clientMutationId for a new operation.`;
  return new GraphQLError(message, { extensions: { code: "IDEMPOTENCY_KEY_REUSED", ...original } });
}

export function clientMutationIdInUse(retryAfterMs: number): GraphQLError {
  return new GraphQLError("A request with this clientMutationId is still running; retry with the same key after retryAfterMs.", {
    extensions: { code: "IDEMPOTENCY_KEY_IN_USE", retryAfterMs },
  });
}

/** The input cannot be fingerprinted: RFC 8785 canonical JSON has no form for it. */
export function inputNotCanonical(reason: string): GraphQLError {
  return new GraphQLError(`The input cannot be used: ${reason}. Nothing was executed.`, {
    extensions: { code: "BAD_USER_INPUT" },
  });
}

export const DATABASE_BUSY_RETRY_AFTER_MS = 1_000;

/**
 * The database answered but could not do the work in time or at all: a lock it waited for past
 * lock_timeout, a statement or attempt past its lease, a full disk. Retryable, with the same key.
 */
export function databaseBusy(
  retryAfterMs = DATABASE_BUSY_RETRY_AFTER_MS,
  message = "The database is too busy (or too full) to do this right now.",
): GraphQLError {
  return new GraphQLError(`${message} Retry with the same clientMutationId after retryAfterMs: a mutation still runs at most once.`, {
    extensions: { code: "DATABASE_BUSY", retryAfterMs, http: { status: 503 } },
  });
}

/**
 * A setup that type-checks but under which the plugin could not keep its promise (a Prisma client
 * not bound to its attempt, a database that is not PostgreSQL): refused before anything relies on
 * it, with a message naming the fix.
 */
export class UnsupportedSetupError extends Error {
  override name = "UnsupportedSetupError";
}
