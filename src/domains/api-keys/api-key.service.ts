import { hashSecret, newSecret } from "../../auth/tokens.ts";
import { exactJson } from "../../db/json.ts";
import type { TransactionClient } from "../../db/transaction.ts";
import { type ApiKey, Prisma, type PrismaClient } from "../../generated/prisma/client.ts";
import type { MutationScope } from "../../idempotency/mutation-field.ts";
import { InvalidInputError } from "../../schema/errors.ts";
import { requireJsonSize, requireLength } from "../../schema/validation.ts";
import { findOrCreateIdentity } from "../identities/identity.service.ts";
import { KeyNotFoundError, SecretNotKeptError } from "./api-key.errors.ts";

export const API_KEY_SECRET_PREFIX = "oq_sk";

export interface NewApiKey {
  externalId?: string | null;
  name?: string | null;
  meta?: unknown;
  expiresAt?: Date | null;
}

/** Ids of keys are UUIDv5s of the workspace, the clientMutationId of createKey and its input. */
export const API_KEY_ID_NAMESPACE = "7a4d2e9c-5b1f-4c8a-9e36-6170696b6579";

/**
 * A new API key, attached to the identity with `externalId` (found or created) when one is given.
 * A retry after the stored outcome expired finds the key its first run made, and makes no other;
 * but the secret was kept only as a hash, so that answer is SecretNotKeptError, naming the key.
 */
export async function createApiKey(
  { tx, workspaceId, idFor, foundEarlier }: MutationScope,
  input: NewApiKey,
): Promise<{ key: ApiKey; secret: string }> {
  const id = idFor(API_KEY_ID_NAMESPACE);
  const made = await tx.apiKey.findUnique({ where: { workspaceId_id: { workspaceId, id } } });
  if (made) throw foundEarlier(new SecretNotKeptError(made));
  if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) {
    throw new InvalidInputError("expiresAt", "expiresAt must be in the future");
  }
  const identity = input.externalId == null ? null : await findOrCreateIdentity(tx, workspaceId, input.externalId);
  const secret = newSecret(API_KEY_SECRET_PREFIX);
  const key = await tx.apiKey.create({
    data: {
      id,
      workspaceId,
      identityId: identity?.id ?? null,
      name: input.name == null ? null : requireLength("name", input.name, 1, 200),
      meta: input.meta == null ? undefined : exactJson(requireJsonSize("meta", input.meta)),
      secretHash: hashSecret(secret),
      expiresAt: input.expiresAt ?? null,
    },
  });
  return { key, secret };
}

export interface ApiKeyChanges {
  keyId: string;
  /** A string attaches that identity (found or created); null detaches; absent keeps. */
  externalId?: string | null;
  name?: string | null;
  meta?: unknown;
}

export async function updateApiKey(tx: TransactionClient, workspaceId: string, changes: ApiKeyChanges): Promise<ApiKey> {
  const data: Prisma.ApiKeyUncheckedUpdateManyInput = {};
  if (changes.externalId !== undefined) {
    data.identityId = changes.externalId === null ? null : (await findOrCreateIdentity(tx, workspaceId, changes.externalId)).id;
  }
  if (changes.name !== undefined) data.name = changes.name === null ? null : requireLength("name", changes.name, 1, 200);
  if (changes.meta !== undefined) {
    data.meta = changes.meta === null ? Prisma.DbNull : exactJson(requireJsonSize("meta", changes.meta));
  }
  // Identity created above for a key that does not exist is rolled back with the transaction.
  const [key] = await tx.apiKey.updateManyAndReturn({ where: { workspaceId, id: changes.keyId }, data });
  if (!key) throw new KeyNotFoundError(changes.keyId);
  return key;
}

export interface ApiKeyVerification {
  valid: boolean;
  key: ApiKey | null;
}

/** Whether `secret` belongs to an unexpired key of this workspace. */
export async function verifyApiKey(prisma: PrismaClient, workspaceId: string, secret: string): Promise<ApiKeyVerification> {
  if (secret.length > 512) return { valid: false, key: null };
  const key = await prisma.apiKey.findUnique({
    where: { workspaceId_secretHash: { workspaceId, secretHash: hashSecret(secret) } },
  });
  if (!key) return { valid: false, key: null };
  return { valid: !key.expiresAt || key.expiresAt.getTime() > Date.now(), key };
}
