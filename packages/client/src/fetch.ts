/**
 * @onceql/client/fetch: a `fetch` that keys every mutation it sends and retries it with that key,
 * for the clients that take a fetch function: Relay's network layer, graphql-request, Apollo's
 * HttpLink, urql's `fetch` option. Use it or the Apollo Link / urql exchange, not both.
 */
import { parse } from "graphql";
import { type IdempotencyOptions, keyMutation } from "./keys.ts";
import { type Attempt, policyOf, retryDecision } from "./retry-policy.ts";

export type { IdempotencyOptions } from "./keys.ts";
export type { RetryInfo } from "./retry-policy.ts";

export interface IdempotentFetchOptions extends IdempotencyOptions {
  /** The fetch that sends each attempt (default: the global one at call time). */
  fetch?: typeof fetch;
}

/**
 * For each POST whose body is one GraphQL request (`{ query, variables, operationName }` as JSON)
 * of a mutation whose input takes `clientMutationId` (see `keyMutation`) and was sent without one,
 * a fresh key in the body's variables; the same body is then sent again on no answer, 5xx, 429,
 * IDEMPOTENCY_KEY_IN_USE, DATABASE_BUSY or DATABASE_UNAVAILABLE, up to `maxAttempts`. It resolves
 * with the last Response as it came (its `Idempotent-Replayed` header and `extensions.idempotency`
 * intact) and rejects only when the last attempt got no answer. Anything else (queries, GET,
 * batched arrays, multipart uploads, a Request object as the only argument) is passed untouched.
 */
export function idempotentFetch(options: IdempotentFetchOptions = {}): typeof fetch {
  const policy = policyOf(options);
  return (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    const send = options.fetch ?? globalThis.fetch;
    const request = mutationOf(init?.body);
    const keyed = request && keyMutation(request.document, request.body.operationName, request.body.variables, options.newKey);
    if (!request || !keyed) return send(input, init);
    const keyedInit = { ...init, body: JSON.stringify({ ...request.body, variables: keyed.variables }) };
    if (!keyed.retryable) return send(input, keyedInit);
    for (let attempt = 1; ; attempt++) {
      let response: Response | undefined;
      let ended: Attempt;
      try {
        response = await send(input, keyedInit);
        ended = attempt < policy.maxAttempts ? await attemptOf(response) : { response: true, status: response.status };
      } catch (error) {
        if (init?.signal?.aborted) throw error;
        ended = { response: false, error };
      }
      const decision = attempt < policy.maxAttempts ? retryDecision(ended, attempt, policy) : { retry: false as const };
      if (!decision.retry) {
        if (response) return response;
        throw (ended as { error: unknown }).error;
      }
      options.onRetry?.({
        operation: request.body.operationName ?? "",
        attempt,
        delayMs: decision.delayMs,
        reason: decision.reason,
        clientMutationIds: keyed.clientMutationIds,
      });
      await sleep(decision.delayMs, init?.signal);
    }
  }) as typeof fetch;
}

interface GraphQLBody {
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
}

/** The parsed request when the body is a mutation's, sent as one JSON object; a cheap test first, as most bodies are queries. */
function mutationOf(body: unknown): { body: GraphQLBody; document: ReturnType<typeof parse> } | undefined {
  if (typeof body !== "string" || !/\bmutation\b/.test(body)) return undefined;
  try {
    const parsed = JSON.parse(body) as unknown;
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
    const request = parsed as GraphQLBody;
    if (typeof request.query !== "string") return undefined;
    return { body: request, document: parse(request.query) };
  } catch {
    // Not JSON, or not GraphQL: the server says what is wrong with it, once.
    return undefined;
  }
}

/** Read from a clone, so that the caller gets the Response unread; a body cut short is no answer. */
async function attemptOf(response: Response): Promise<Attempt> {
  const text = await response.clone().text();
  let body: { data?: unknown; errors?: { extensions?: Record<string, unknown> }[] } = {};
  try {
    body = JSON.parse(text) ?? {};
  } catch {
    // A gateway's page, not GraphQL: the status decides.
  }
  return { response: true, status: response.status, headers: response.headers, data: body.data, errors: body.errors };
}

function sleep(ms: number, signal: AbortSignal | null | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
