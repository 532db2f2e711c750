import { ClientError } from "graphql-request";
import { type Attempt, type ErrorOutcome, outcomeOf } from "./retry-policy.ts";

/** What the SDK's call ended with, for the retry policy: graphql-request throws a ClientError for any answer with errors. */
export function attemptOf(error: unknown): Attempt {
  if (!(error instanceof ClientError)) return { response: false, error };
  const { status, headers, data, errors } = error.response;
  return { response: true, status, headers, data, errors };
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
    const outcome = mutation ? outcomeOf(attemptOf(error)) : undefined;
    if (error instanceof ClientError) {
      const first = error.response.errors?.[0];
      const extensions = first?.extensions as { code?: string; originalMutation?: string; differingFields?: string[] } | undefined;
      return new OnceqlError(
        first?.message ?? `HTTP ${error.response.status}`,
        extensions?.code,
        error.response.status,
        context.attempts,
        context.clientMutationId,
        { cause: error, originalMutation: extensions?.originalMutation, differingFields: extensions?.differingFields, outcome },
      );
    }
    const message = error instanceof Error ? error.message : String(error);
    return new OnceqlError(message, undefined, undefined, context.attempts, context.clientMutationId, { cause: error, outcome });
  }
}
