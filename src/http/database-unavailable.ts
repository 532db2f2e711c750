import { GraphQLError } from "graphql";

export const DATABASE_RETRY_AFTER_MS = 1_000;

/** What a client sees when the database cannot be reached: a retryable answer, not a masked 500. */
export function databaseUnavailable(): GraphQLError {
  return new GraphQLError(
    "The database cannot be reached right now. Retry with the same clientMutationId: a mutation still runs at most once.",
    { extensions: { code: "DATABASE_UNAVAILABLE", retryAfterMs: DATABASE_RETRY_AFTER_MS, http: { status: 503 } } },
  );
}
