import { ClientError } from "graphql-request";

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

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
 * What an error of a mutation field says of its key: its outcome is committed and the same key
 * replays it (STORED), nothing of it was committed (NOT_STORED), or the commit's reply was lost
 * (UNKNOWN). The same key again is always safe; a new key after an error is not.
 */
export type ErrorOutcome = "STORED" | "NOT_STORED" | "UNKNOWN";

export function retryDecision(error: unknown, attempt: number, policy: RetryPolicy): RetryDecision {
  const backoff = () => {
    const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  };
  if (!(error instanceof ClientError)) {
    // No answer at all: a refused or reset connection, a lost response, a timeout.
    return { retry: true, delayMs: backoff(), reason: error instanceof Error ? error.message : "network error" };
  }
  const status = error.response.status;
  if (status === 429) {
    const retryAfter = Number(error.response.headers?.get?.("retry-after"));
    return {
      retry: true,
      delayMs: Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter * 1000, policy.maxDelayMs) : backoff(),
      reason: "HTTP 429",
    };
  }
  const codes = (error.response.errors ?? []).map((e) => (e.extensions as { code?: string } | undefined)?.code);
  const retryable = codes.length > 0 && codes.every((code) => code !== undefined && RETRYABLE_CODES.has(code));
  if (status >= 500 && !retryable) return { retry: true, delayMs: backoff(), reason: `HTTP ${status}` };
  if (!retryable) return { retry: false };
  const hinted = (error.response.errors ?? [])
    .map((e) => Number((e.extensions as { retryAfterMs?: unknown } | undefined)?.retryAfterMs))
    .filter((ms) => Number.isFinite(ms) && ms > 0);
  const delayMs = hinted.length ? Math.min(Math.max(...hinted), policy.maxDelayMs) : backoff();
  return { retry: true, delayMs, reason: codes.join(", ") };
}

/** What a failed call ends with: the server's code when it gave one, and how hard the client tried. */
export class OnceqlError extends Error {
  /** IDEMPOTENCY_KEY_REUSED: the mutation the key first ran. */
  readonly originalMutation: string | undefined;
  /**
   * IDEMPOTENCY_KEY_REUSED: the paths of the input fields whose values differ from the first use
   * (`amount.value`, `lines.1.sku`); empty when the mutation differs, or the first is still running.
   */
  readonly differingFields: string[] | undefined;
  /**
   * A mutation's: what the failure left of its key (the server's `extensions.outcome`; NOT_STORED
   * when the server refused the whole request, UNKNOWN when no GraphQL answer came). Undefined for
   * a query. Whatever it is, send the same clientMutationId again, never a new one.
   */
  readonly outcome: ErrorOutcome | undefined;

  constructor(
    message: string,
    readonly code: string | undefined,
    readonly status: number | undefined,
    readonly attempts: number,
    readonly clientMutationId: string | undefined,
    options?: { cause?: unknown; originalMutation?: string; differingFields?: string[]; outcome?: ErrorOutcome },
  ) {
    super(message, options);
    this.name = "OnceqlError";
    this.originalMutation = options?.originalMutation;
    this.differingFields = options?.differingFields;
    this.outcome = options?.outcome;
  }

  static from(error: unknown, context: { attempts: number; clientMutationId: string | undefined }): OnceqlError {
    const mutation = context.clientMutationId !== undefined;
    if (error instanceof ClientError) {
      const first = error.response.errors?.[0];
      const extensions = first?.extensions as { code?: string; originalMutation?: string; differingFields?: string[] } | undefined;
      return new OnceqlError(
        first?.message ?? `HTTP ${error.response.status}`,
        extensions?.code,
        error.response.status,
        context.attempts,
        context.clientMutationId,
        {
          cause: error,
          originalMutation: extensions?.originalMutation,
          differingFields: extensions?.differingFields,
          outcome: mutation ? outcomeOf(error) : undefined,
        },
      );
    }
    const message = error instanceof Error ? error.message : String(error);
    return new OnceqlError(message, undefined, undefined, context.attempts, context.clientMutationId, {
      cause: error,
      outcome: mutation ? "UNKNOWN" : undefined,
    });
  }
}

const OUTCOMES: readonly string[] = ["STORED", "NOT_STORED", "UNKNOWN"] satisfies ErrorOutcome[];

/**
 * The server's word when an error carries one; a GraphQL answer with errors and no `data` is a
 * refused request (nothing ran); anything else (a gateway's 5xx, a body that is not GraphQL's)
 * cannot say whether the server committed.
 */
function outcomeOf(error: ClientError): ErrorOutcome {
  const told = (error.response.errors ?? [])
    .map((e) => (e.extensions as { outcome?: unknown } | undefined)?.outcome)
    .find((outcome): outcome is ErrorOutcome => typeof outcome === "string" && OUTCOMES.includes(outcome));
  if (told) return told;
  return error.response.errors?.length && error.response.data == null ? "NOT_STORED" : "UNKNOWN";
}
