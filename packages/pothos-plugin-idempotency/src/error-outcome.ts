import { GraphQLError } from "graphql";
import { isDatabaseUnavailable, sqlState } from "./database-errors.ts";

/**
 * What an error of a mutation field says of its key (`extensions.outcome`): its outcome is
 * committed and the same key replays it (STORED), nothing of it committed (NOT_STORED), or the
 * commit was sent and its reply lost (UNKNOWN). In every case the same key again is safe.
 */
export type ErrorOutcome = "STORED" | "NOT_STORED" | "UNKNOWN";

const replyLost = new WeakSet<object>();

/**
 * Marks an error of the round trip that stores the outcome and commits. PostgreSQL answering with
 * an error of a statement means the transaction was aborted, so nothing committed; anything else
 * (the connection lost, the server shutting down) leaves the COMMIT's fate unknown here.
 */
export function commitFailed(error: unknown): unknown {
  const answered = !isDatabaseUnavailable(error) && sqlState(error) !== undefined;
  if (!answered && typeof error === "object" && error !== null) replyLost.add(error);
  return error;
}

/** What a failure thrown by the wrapper left of the key: nothing, unless it was the commit's reply that was lost. */
export function outcomeOfFailure(error: unknown): ErrorOutcome {
  return typeof error === "object" && error !== null && replyLost.has(error) ? "UNKNOWN" : "NOT_STORED";
}

/** The same error (its path, locations and original error kept) with `extensions.outcome`. */
export function withOutcome(error: GraphQLError, outcome: ErrorOutcome): GraphQLError {
  if (error.extensions.outcome === outcome) return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, outcome },
  });
}
