import { GraphQLError } from "graphql";

/** The idempotency key is missing, too long, or has characters outside printable ASCII. */
export function keyInvalid(reason: string): GraphQLError {
  return new GraphQLError(`clientMutationId ${reason}`, {
    extensions: { code: "IDEMPOTENCY_KEY_INVALID" },
  });
}

export function keyReused(): GraphQLError {
  return new GraphQLError(
    "This clientMutationId was already used with a different input or on another mutation; " +
      "its stored outcome is unchanged. Use a new clientMutationId for a new operation.",
    { extensions: { code: "IDEMPOTENCY_KEY_REUSED" } },
  );
}

export function keyInUse(retryAfterMs: number): GraphQLError {
  return new GraphQLError(
    "A request with this clientMutationId is still running; retry with the same key after retryAfterMs.",
    { extensions: { code: "IDEMPOTENCY_KEY_IN_USE", retryAfterMs } },
  );
}
