import { hashSecret, newSecret } from "../../auth/tokens.ts";
import type { TransactionClient } from "../../db/transaction.ts";
import { type ApiKey, Prisma, type PrismaClient } from "../../generated/prisma/client.ts";
import { findOrCreateIdentity } from "../identities/identity.service.ts";
import { InvalidInputError } from "../user-error.ts";
import { isUuid, requireJsonSize, requireLength } from "../validation.ts";
import { KeyNotFoundError } from "./key.errors.ts";

export const KEY_SECRET_PREFIX = "oq_sk";

export interface NewKey {
  externalId?: string | null;
  name?: string | null;
  meta?: unknown;
  expiresAt?: Date | null;
}

/** A new API key, attached to the identity with `externalId` (found or created) when one is given. */
export async function createKey(tx: TransactionClient, workspaceId: string, input: NewKey): Promise<{ key: ApiKey; secret: string }> {
  if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) {
    throw new InvalidInputError("expiresAt", "expiresAt must be in the future");
  }
  const identity = input.externalId == null ? null : await findOrCreateIdentity(tx, workspaceId, input.externalId);
  const secret = newSecret(KEY_SECRET_PREFIX);
  const key = await tx.apiKey.create({
    data: {
      workspaceId,
      identityId: identity?.id ?? null,
      name: input.name == null ? null : requireLength("name", input.name, 1, 200),
      meta: input.meta == null ? undefined : (requireJsonSize("meta", input.meta) as Prisma.InputJsonValue),
      secretHash: hashSecret(secret),
      expiresAt: input.expiresAt ?? null,
    },
  });
  return { key, secret };
}

export interface KeyChanges {
  keyId: string;
  /** A string attaches that identity (found or created); null detaches; absent keeps. */
  externalId?: string | null;
  name?: string | null;
  meta?: unknown;
}

export async function updateKey(tx: TransactionClient, workspaceId: string, changes: KeyChanges): Promise<ApiKey> {
  if (!isUuid(changes.keyId)) throw new KeyNotFoundError(changes.keyId);
  const data: Prisma.ApiKeyUncheckedUpdateManyInput = {};
  if (changes.externalId !== undefined) {
    data.identityId = changes.externalId === null ? null : (await findOrCreateIdentity(tx, workspaceId, changes.externalId)).id;
  }
  if (changes.name !== undefined) data.name = changes.name === null ? null : requireLength("name", changes.name, 1, 200);
  if (changes.meta !== undefined) {
    data.meta = changes.meta === null ? Prisma.DbNull : (requireJsonSize("meta", changes.meta) as Prisma.InputJsonValue);
  }
  // Identity created above for a key that does not exist is rolled back with the transaction.
  const [key] = await tx.apiKey.updateManyAndReturn({ where: { workspaceId, id: changes.keyId }, data });
  if (!key) throw new KeyNotFoundError(changes.keyId);
  return key;
}

export interface KeyVerification {
  valid: boolean;
  key: ApiKey | null;
}

/** Whether `secret` belongs to an unexpired key of this workspace. */
export async function verifyKey(prisma: PrismaClient, workspaceId: string, secret: string): Promise<KeyVerification> {
  if (secret.length > 512) return { valid: false, key: null };
  const key = await prisma.apiKey.findUnique({
    where: { workspaceId_secretHash: { workspaceId, secretHash: hashSecret(secret) } },
  });
  if (!key) return { valid: false, key: null };
  return { valid: !key.expiresAt || key.expiresAt.getTime() > Date.now(), key };
}
