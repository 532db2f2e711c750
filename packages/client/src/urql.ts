/**
 * @onceql/client/urql: an urql exchange that keys every mutation and retries it with that key.
 * Place it before `offlineExchange`/`cacheExchange` and `fetchExchange`: a mutation graphcache
 * queues offline is then stored with its key, and its replay after a restart is the same call.
 */
import { type Exchange, makeOperation, type Operation, type OperationResult } from "@urql/core";
import { delay, filter, fromValue, makeSubject, map, merge, mergeMap, pipe, share, takeUntil } from "wonka";
import { type IdempotencyOptions, keyMutation, operationNameOf } from "./keys.ts";
import { type Attempt, policyOf, retryDecision } from "./retry-policy.ts";

export type { IdempotencyOptions } from "./keys.ts";
export type { RetryInfo } from "./retry-policy.ts";

/** What the exchange keeps in an operation's context between its attempts. */
interface Attempts {
  attempt: number;
  retryable: boolean;
  clientMutationIds: string[];
  delayMs?: number;
}

const CONTEXT = "onceqlIdempotency";

/**
 * For each mutation whose input takes `clientMutationId` (see `keyMutation`) and was sent without
 * one, a fresh key in the operation's variables; the operation is then sent again, the same, on
 * no answer, 5xx, 429, IDEMPOTENCY_KEY_IN_USE, DATABASE_BUSY or DATABASE_UNAVAILABLE, up to
 * `maxAttempts`; a teardown cancels a waiting retry. The last result reaches the caller as it came:
 * the replay in `OperationResult.extensions.idempotency`, `extensions.outcome` in
 * `error.graphQLErrors`. Queries and subscriptions pass untouched.
 */
export function idempotencyExchange(options: IdempotencyOptions = {}): Exchange {
  const policy = policyOf(options);
  return ({ forward }) =>
    (operations$) => {
      const shared$ = share(operations$);
      const { source: retries$, next: retry } = makeSubject<Operation>();
      const keyed$ = pipe(
        shared$,
        map((operation) => {
          if (operation.kind !== "mutation") return operation;
          const keyed = keyMutation(operation.query, undefined, operation.variables as Record<string, unknown> | undefined, options.newKey);
          if (!keyed) return operation;
          const attempts: Attempts = { attempt: 1, retryable: keyed.retryable, clientMutationIds: keyed.clientMutationIds };
          return makeOperation(operation.kind, { ...operation, variables: keyed.variables }, { ...operation.context, [CONTEXT]: attempts });
        }),
      );
      const delayed$ = pipe(
        retries$,
        mergeMap((operation) =>
          pipe(
            fromValue(operation),
            delay((operation.context[CONTEXT] as Attempts).delayMs ?? 0),
            takeUntil(
              pipe(
                shared$,
                filter((other) => other.kind === "teardown" && other.key === operation.key),
              ),
            ),
          ),
        ),
      );
      return pipe(
        merge([keyed$, delayed$]),
        forward,
        filter((result) => {
          const { operation } = result;
          if (operation.kind !== "mutation" || !result.error) return true;
          const attempts = attemptsOf(operation);
          if (!attempts?.retryable || attempts.attempt >= policy.maxAttempts) return true;
          const decision = retryDecision(attemptOf(result), attempts.attempt, policy);
          if (!decision.retry) return true;
          options.onRetry?.({
            operation: operationNameOf(operation.query) ?? "",
            attempt: attempts.attempt,
            delayMs: decision.delayMs,
            reason: decision.reason,
            clientMutationIds: attempts.clientMutationIds,
          });
          const next: Attempts = { ...attempts, attempt: attempts.attempt + 1, delayMs: decision.delayMs };
          retry(makeOperation(operation.kind, operation, { ...operation.context, [CONTEXT]: next }));
          return false;
        }),
      );
    };
}

/**
 * An operation this exchange keyed carries its count; one that reached the exchanges below it
 * without passing here (graphcache's offline queue replays its stored mutations from there) is
 * retried only when it holds all its keys already, so that a retry never sends a new one.
 */
function attemptsOf(operation: Operation): Attempts | undefined {
  const attempts = operation.context[CONTEXT] as Attempts | undefined;
  if (attempts) return attempts;
  let missing = false;
  const keyed = keyMutation(operation.query, undefined, operation.variables as Record<string, unknown> | undefined, () => {
    missing = true;
    return "";
  });
  if (!keyed || missing) return undefined;
  return { attempt: 1, retryable: keyed.retryable, clientMutationIds: keyed.clientMutationIds };
}

/** fetchExchange's `error.response` is the fetch Response when one came, and absent when none did. */
function attemptOf(result: OperationResult): Attempt {
  const response = result.error?.response as Response | undefined;
  if (!response) return { response: false, error: result.error?.networkError ?? result.error };
  return { response: true, status: response.status, headers: response.headers, data: result.data, errors: result.error?.graphQLErrors };
}
