import { setTimeout as sleep } from "node:timers/promises";
import { GraphQLClient } from "graphql-request";
import { getSdk } from "./generated.ts";
import { newKey } from "./keys.ts";
import { attemptOf, OnceqlError } from "./onceql-error.ts";
import { policyOf, type RetryOptions, retryDecision } from "./retry-policy.ts";

type Sdk = ReturnType<typeof getSdk>;

/** A mutation's variables with the key optional: the client fills in a fresh one. */
type KeyOptional<V> = V extends { input: infer I }
  ? Omit<V, "input"> & { input: Omit<I, "clientMutationId"> & { clientMutationId?: string } }
  : V;
type DataOf<M> = M extends (...args: never[]) => Promise<{ data: infer D }> ? D : never;

export interface IdempotencyEntry {
  field: string;
  clientMutationId: string;
  status: "EXECUTED" | "REPLAYED";
}

export interface OnceqlResult<Data> {
  /** The typed data; switch on each mutation field's `__typename`. */
  data: Data;
  /** Some field of this response was answered with a stored outcome (a retry of an earlier success). */
  replayed: boolean;
  idempotency: IdempotencyEntry[];
  /** The key a mutation was sent with, filled in when the caller gave none. */
  clientMutationId: string | undefined;
  /** How many requests it took. */
  attempts: number;
}

export type OnceqlClient = {
  [K in keyof Sdk]: undefined extends Parameters<Sdk[K]>[0]
    ? (variables?: KeyOptional<NonNullable<Parameters<Sdk[K]>[0]>>) => Promise<OnceqlResult<DataOf<Sdk[K]>>>
    : (variables: KeyOptional<Parameters<Sdk[K]>[0]>) => Promise<OnceqlResult<DataOf<Sdk[K]>>>;
};

export interface ClientOptions extends Omit<RetryOptions, "onRetry"> {
  /** The GraphQL endpoint, such as http://127.0.0.1:4000/graphql. */
  url: string;
  /** The workspace token. */
  token: string;
  headers?: Record<string, string>;
  fetch?: typeof fetch;
  /** Called before each retry, for logging. */
  onRetry?: (info: { operation: string; attempt: number; delayMs: number; reason: string }) => void;
}

/**
 * A typed onceql client: one method per operation of the SDK. Mutations get a fresh UUID as
 * `clientMutationId` when none is given, and are retried with that same key on network errors,
 * 5xx, 429, IDEMPOTENCY_KEY_IN_USE, DATABASE_UNAVAILABLE and DATABASE_BUSY, so a lost response is
 * answered by the replay. A reused key or a UserError is never retried; an error thrown says in
 * `outcome` whether the key's outcome is stored.
 */
export function createClient(options: ClientOptions): OnceqlClient {
  const client = new GraphQLClient(options.url, {
    headers: { authorization: `Bearer ${options.token}`, ...options.headers },
    fetch: options.fetch,
  });
  const sdk = getSdk(client);
  const policy = policyOf(options);
  const methods = Object.keys(sdk) as (keyof Sdk)[];
  return Object.fromEntries(
    methods.map((operation) => [
      operation,
      async (variables?: Record<string, unknown>) => {
        const prepared = withKey(variables);
        const clientMutationId = (prepared?.input as { clientMutationId?: string } | undefined)?.clientMutationId;
        for (let attempt = 1; ; attempt++) {
          try {
            const call = sdk[operation] as (
              v?: Record<string, unknown>,
            ) => Promise<{ data: unknown; extensions?: unknown; headers: Headers }>;
            const raw = await call(prepared);
            const idempotency = (raw.extensions as { idempotency?: IdempotencyEntry[] } | undefined)?.idempotency ?? [];
            return {
              data: raw.data,
              replayed: raw.headers.get("idempotent-replayed") === "true" || idempotency.some((entry) => entry.status === "REPLAYED"),
              idempotency,
              clientMutationId,
              attempts: attempt,
            };
          } catch (error) {
            const decision = retryDecision(attemptOf(error), attempt, policy);
            if (!decision.retry || attempt >= policy.maxAttempts) throw OnceqlError.from(error, { attempts: attempt, clientMutationId });
            options.onRetry?.({ operation: String(operation), attempt, delayMs: decision.delayMs, reason: decision.reason });
            await sleep(decision.delayMs);
          }
        }
      },
    ]),
  ) as unknown as OnceqlClient;
}

/** Fills in `input.clientMutationId` (mutations are the operations with an `input`). */
function withKey(variables: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const input = variables?.input;
  if (!input || typeof input !== "object" || Array.isArray(input)) return variables;
  if ((input as { clientMutationId?: unknown }).clientMutationId != null) return variables;
  return { ...variables, input: { ...input, clientMutationId: newKey() } };
}
