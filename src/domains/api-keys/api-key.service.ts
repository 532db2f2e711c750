import { hashSecret, newSecret } from "../../auth/tokens.ts";
import { exactJson } from "../../db/json.ts";
import type { TransactionClient } from "../../db/transaction.ts";
import { type ApiKey, Prisma, type PrismaClient } from "../../generated/prisma/client.ts";
import { InvalidInputError } from "../../schema/errors.ts";
import { requireJsonSize, requireLength } from "../../schema/validation.ts";
import { findOrCreateIdentity } from "../identities/identity.service.ts";
import { KeyNotFoundError } from "./api-key.errors.ts";

export const API_KEY_SECRET_PREFIX = "oq_sk";

export interface NewApiKey {
  externalId?: string | null;
  name?: string | null;
  meta?: unknown;
  expiresAt?: Date | null;
}

/** A new API key, attached to the identity with `externalId` (found or created) when one is given. */
export async function createApiKey(tx: TransactionClient, workspaceId: string, input: NewApiKey): Promise<{ key: ApiKey; secret: string }> {
  if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) {
    throw new InvalidInputError("expiresAt", "expiresAt must be in the future");
  }
  const identity = input.externalId == null ? null : await findOrCreateIdentity(tx, workspaceId, input.externalId);
  const secret = newSecret(API_KEY_SECRET_PREFIX);
  const key = await tx.apiKey.create({
    data: {
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
