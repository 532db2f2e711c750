/**
 * @onceql/client: the typed onceql SDK. `createClient` has one method per operation of
 * packages/client/operations, fills in `clientMutationId` and retries with the same key; what it
 * cannot answer it throws as `OnceqlError`, whose `outcome` says whether the key's outcome is stored.
 * The generated operation types (`CreateIdentityMutation`, `CreateIdentityInput`, ...) and documents
 * come with it.
 */
export { ClientError } from "graphql-request";
export { type ClientOptions, createClient, type IdempotencyEntry, type OnceqlClient, type OnceqlResult } from "./client.ts";
export * from "./generated.ts";
export { OnceqlError } from "./onceql-error.ts";
export type { ErrorOutcome, RetryInfo, RetryOptions } from "./retry-policy.ts";
