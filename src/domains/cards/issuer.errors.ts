import { GraphQLError } from "graphql";

export const ISSUER_RETRY_AFTER_MS = 1_000;

/**
 * The issuer could not be reached, failed (5xx) or did not answer in time: nothing is stored, the
 * key is released, and a retry with the same key runs afresh, adopting any card this attempt left
 * at the issuer. Not masked: the client should retry.
 */
export function issuerUnavailable(reason: string): GraphQLError {
  return new GraphQLError(
    `The card issuer is unavailable (${reason}). Nothing was stored: retry with the same clientMutationId after retryAfterMs.`,
    { extensions: { code: "ISSUER_UNAVAILABLE", retryAfterMs: ISSUER_RETRY_AFTER_MS, http: { status: 503 } } },
  );
}

/**
 * The issuer refused a request or answered one in a way this client never asks for (a 4xx other
 * than the card limit, a body that is not a card): a bug here or there, so an unexpected failure,
 * masked, with nothing stored.
 */
export class IssuerProtocolError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "IssuerProtocolError";
  }
}
