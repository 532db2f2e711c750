import type { ApiKey } from "../../generated/prisma/client.ts";
import { userError } from "../../schema/errors.ts";

export class KeyNotFoundError extends userError("KEY_NOT_FOUND") {
  constructor(readonly keyId: string) {
    super(`No API key ${JSON.stringify(keyId)} in this workspace.`);
  }
}

/**
 * createKey's answer to a retry of a key that ran longer ago than its answer is kept: the key it
 * made exists (nothing was made again), but its secret, stored only as a hash, cannot be shown.
 */
export class SecretNotKeptError extends userError("SECRET_NOT_KEPT") {
  constructor(readonly key: ApiKey) {
    super(
      `This clientMutationId created key ${key.id} at ${key.createdAt.toISOString()}, longer ago than answers are kept ` +
        "(ONCEQL_IDEMPOTENCY_TTL): nothing was created again, and its secret, stored only as a hash, cannot be shown. " +
        "Create another key with a new clientMutationId if the secret was lost.",
    );
  }
}
