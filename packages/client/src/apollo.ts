/**
 * @onceql/client/apollo: an Apollo Client 4 link that keys every mutation and retries it with that
 * key. Place it before the terminating link (HttpLink), and give it no RetryLink for mutations.
 */
import { ServerError } from "@apollo/client/errors";
import { ApolloLink } from "@apollo/client/link";
import { Observable, type Subscription } from "rxjs";
import { type IdempotencyOptions, keyMutation } from "./keys.ts";
import { type Attempt, policyOf, type RetryDecision, retryDecision } from "./retry-policy.ts";

export type { IdempotencyOptions } from "./keys.ts";
export type { RetryInfo } from "./retry-policy.ts";

/**
 * For each mutation whose input takes `clientMutationId` (see `keyMutation`) and was sent without
 * one, a fresh key in `operation.variables`; the operation is then sent again, with those same
 * variables, on no answer, 5xx, 429, IDEMPOTENCY_KEY_IN_USE, DATABASE_BUSY or DATABASE_UNAVAILABLE,
 * up to `maxAttempts`. The last answer or error reaches Apollo as it came: the replay in
 * `extensions.idempotency` of the mutate result, a GraphQL error's `extensions.outcome` in
 * `CombinedGraphQLErrors`. Queries and subscriptions are forwarded untouched.
 */
export function createIdempotencyLink(options: IdempotencyOptions = {}): ApolloLink {
  const policy = policyOf(options);
  return new ApolloLink((operation, forward) => {
    const keyed = keyMutation(operation.query, operation.operationName, operation.variables, options.newKey);
    if (!keyed) return forward(operation);
    operation.variables = keyed.variables;
    if (!keyed.retryable) return forward(operation);
    return new Observable<ApolloLink.Result>((observer) => {
      let current: Subscription | undefined;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let attempt = 0;
      const decide = (ended: Attempt): RetryDecision => {
        if (attempt >= policy.maxAttempts) return { retry: false };
        const decision = retryDecision(ended, attempt, policy);
        if (decision.retry) {
          options.onRetry?.({
            operation: operation.operationName ?? "",
            attempt,
            delayMs: decision.delayMs,
            reason: decision.reason,
            clientMutationIds: keyed.clientMutationIds,
          });
          current?.unsubscribe();
          timer = setTimeout(send, decision.delayMs);
        }
        return decision;
      };
      const send = () => {
        attempt++;
        // Settled by the first result: later ones (incremental delivery) belong to the answer.
        let answered = false;
        let retrying = false;
        current = forward(operation).subscribe({
          next(result) {
            if (retrying) return;
            if (!answered && decide(attemptOfResult(operation, result)).retry) {
              retrying = true;
              return;
            }
            answered = true;
            observer.next(result);
          },
          error(error: unknown) {
            if (retrying) return;
            if (!answered && decide(attemptOfError(error)).retry) {
              retrying = true;
              return;
            }
            observer.error(error);
          },
          complete() {
            if (!retrying) observer.complete();
          },
        });
        if (retrying) current.unsubscribe();
      };
      send();
      return () => {
        clearTimeout(timer);
        current?.unsubscribe();
      };
    });
  });
}

/** HttpLink puts the fetch Response in the context: its status and Retry-After are the policy's too. */
function attemptOfResult(operation: ApolloLink.Operation, result: ApolloLink.Result): Attempt {
  const response = (operation.getContext() as { response?: Response }).response;
  const { data, errors } = result as { data?: unknown; errors?: readonly { extensions?: Record<string, unknown> }[] };
  return { response: true, status: response?.status ?? 200, headers: response?.headers, data, errors };
}

/** A non-GraphQL status (ServerError) is an answer; anything else thrown before one is none. */
function attemptOfError(error: unknown): Attempt {
  if (!ServerError.is(error)) return { response: false, error };
  let body: { data?: unknown; errors?: { extensions?: Record<string, unknown> }[] } = {};
  try {
    body = JSON.parse(error.bodyText) ?? {};
  } catch {
    // A gateway's page, not GraphQL: the status decides.
  }
  return { response: true, status: error.statusCode, headers: error.response.headers, data: body.data, errors: body.errors };
}
