/**
 * The one retry policy of @onceql/client: the SDK, the Apollo Link, the urql exchange and the fetch
 * each turn what an attempt ended with into an `Attempt` and ask `retryDecision`. It imports
 * nothing, so that a subpath's bundle carries no client it does not use.
 */

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** What every form takes (`createClient`, `createIdempotencyLink`, `idempotencyExchange`, `idempotentFetch`). */
export interface RetryOptions {
  /**
   * Requests per operation, the first included (default 10: with the backoff below, about 20 s of
   * retrying, long enough for a server killed mid-request to be restarted and answer the retry).
   */
  maxAttempts?: number;
  /** First backoff step; each retry doubles it, with jitter (default 100 ms). */
  baseDelayMs?: number;
  /** Longest wait between attempts, a server's hint included (default 5 s). */
  maxDelayMs?: number;
  /** Called before each retry, for logging. */
  onRetry?: (info: RetryInfo) => void;
}

export interface RetryInfo {
  /** The operation's name (empty for an anonymous one). */
  operation: string;
  /** The attempt that failed, 1 for the first. */
  attempt: number;
  delayMs: number;
  reason: string;
  /** The keys the retry is sent with: the same as the failed attempt's. */
  clientMutationIds?: string[];
}

export function policyOf(options: RetryOptions): RetryPolicy {
  return {
    maxAttempts: options.maxAttempts ?? 10,
    baseDelayMs: options.baseDelayMs ?? 100,
    maxDelayMs: options.maxDelayMs ?? 5_000,
  };
}

interface HeadersLike {
  get(name: string): string | null;
}

interface ErrorLike {
  readonly extensions?: { readonly [name: string]: unknown } | undefined;
}

/** How one request ended, as far as a retry is concerned. */
export type Attempt =
  /** No answer at all: a refused or reset connection, a lost response, a timeout. */
  | { response: false; error: unknown }
  | {
      response: true;
      status: number;
      headers?: HeadersLike | undefined;
      /** The GraphQL answer's `data` and `errors`, when the body was one. */
      data?: unknown;
      errors?: readonly ErrorLike[] | undefined;
    };

export type RetryDecision = { retry: false } | { retry: true; delayMs: number; reason: string };

/**
 * Failures after which the same key is sent again: nothing of it was stored, it was and is
 * replayed, or the commit's reply was lost (`extensions.outcome`); the same key is safe in each case.
 */
const RETRYABLE_CODES = new Set([
  "IDEMPOTENCY_KEY_IN_USE",
  "INTERNAL_SERVER_ERROR",
  "DATABASE_UNAVAILABLE",
  "DATABASE_BUSY",
  "ISSUER_UNAVAILABLE",
  "RATE_LIMITED",
]);

/**
 * Retried: no answer, 429, 5xx, and GraphQL errors whose codes are all in RETRYABLE_CODES (then
 * also beside a partial answer: a payload whose relation failed to read after its commit says
 * STORED, and the same key replays it whole). Never: IDEMPOTENCY_KEY_REUSED (whatever the
 * status), an answer in `data` beside any other error or none, any other error.
 */
export function retryDecision(attempt: Attempt, attemptNumber: number, policy: RetryPolicy): RetryDecision {
  const backoff = () => {
    const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attemptNumber - 1));
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  };
  if (!attempt.response) {
    const reason = attempt.error instanceof Error ? attempt.error.message : "network error";
    return { retry: true, delayMs: backoff(), reason };
  }
  const errors = attempt.errors ?? [];
  const codes = errors.map((e) => e.extensions?.code);
  const retryable = codes.length > 0 && codes.every((code) => typeof code === "string" && RETRYABLE_CODES.has(code));
  if (codes.includes("IDEMPOTENCY_KEY_REUSED") || (hasAnswer(attempt.data) && !retryable)) return { retry: false };
  if (!retryable && attempt.status !== 429 && attempt.status < 500) return { retry: false };
  const hints = errors.map((e) => Number(e.extensions?.retryAfterMs));
  const retryAfter = attempt.headers?.get("retry-after");
  if (retryAfter != null && retryAfter !== "") hints.push(Number(retryAfter) * 1000);
  const told = hints.filter((ms) => Number.isFinite(ms) && ms >= 0);
  const delayMs = told.length ? Math.min(Math.max(...told), policy.maxDelayMs) : backoff();
  return { retry: true, delayMs, reason: retryable ? codes.join(", ") : `HTTP ${attempt.status}` };
}

/** A field of `data` that is not null: the server answered it, so the call is over. */
function hasAnswer(data: unknown): boolean {
  return typeof data === "object" && data !== null && Object.values(data).some((value) => value != null);
}

/**
 * What an error of a mutation field says of its key: its outcome is committed and the same key
 * replays it (STORED), nothing of it was committed (NOT_STORED), or the commit's reply was lost
 * (UNKNOWN). The same key again is always safe; a new key after an error is not.
 */
export type ErrorOutcome = "STORED" | "NOT_STORED" | "UNKNOWN";

const OUTCOMES: readonly string[] = ["STORED", "NOT_STORED", "UNKNOWN"] satisfies ErrorOutcome[];

/**
 * The server's word when an error carries one; a GraphQL answer with errors and no `data` is a
 * refused request (nothing ran); anything else (no answer, a gateway's 5xx, a body that is not
 * GraphQL's) cannot say whether the server committed.
 */
export function outcomeOf(attempt: Attempt): ErrorOutcome {
  if (!attempt.response) return "UNKNOWN";
  const told = (attempt.errors ?? [])
    .map((e) => e.extensions?.outcome)
    .find((outcome): outcome is ErrorOutcome => typeof outcome === "string" && OUTCOMES.includes(outcome));
  if (told) return told;
  return attempt.errors?.length && attempt.data == null ? "NOT_STORED" : "UNKNOWN";
}
