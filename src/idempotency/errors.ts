import { GraphQLError } from "graphql";

/** The clientMutationId is missing, too long, or has characters outside printable ASCII. */
export function invalidClientMutationId(reason: string): GraphQLError {
  return new GraphQLError(`clientMutationId ${reason}`, {
    extensions: { code: "IDEMPOTENCY_KEY_INVALID" },
  });
}

export function clientMutationIdReused(): GraphQLError {
  return new GraphQLError(
    "This clientMutationId was already used with a different input or on another mutation; " +
      "its stored outcome is unchanged. Use a new clientMutationId for a new operation.",
    { extensions: { code: "IDEMPOTENCY_KEY_REUSED" } },
  );
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
