import { v7 as uuidv7 } from "uuid";
import type { TransactionClient } from "../../db/transaction.ts";
import { type Identity, Prisma } from "../../generated/prisma/client.ts";
import { requireJsonSize, requireLength } from "../../schema/validation.ts";
import { IdentityAlreadyExistsError } from "./identity.errors.ts";

export interface NewIdentity {
  externalId: string;
  meta?: unknown;
}

/** A new identity; its externalId must not be taken in the workspace. */
export async function createIdentity(tx: TransactionClient, workspaceId: string, input: NewIdentity): Promise<Identity> {
  const created = await insertIfAbsent(tx, workspaceId, input);
  if (!created) throw new IdentityAlreadyExistsError(input.externalId);
  return created;
}

/**
 * The identity with this externalId, created if there is none. When concurrent callers race to
 * create it, every one of them ends with the single row that won.
 */
export async function findOrCreateIdentity(tx: TransactionClient, workspaceId: string, externalId: string): Promise<Identity> {
  requireLength("externalId", externalId, 1, 255);
  const where = { workspaceId_externalId: { workspaceId, externalId } };
  const existing = await tx.identity.findUnique({ where });
  if (existing) return existing;
  const created = await insertIfAbsent(tx, workspaceId, { externalId });
  // Lost the race: the insert waited for the winner to commit, so a fresh read now sees its row.
  return created ?? tx.identity.findUniqueOrThrow({ where });
}

/**
 * INSERT ... ON CONFLICT DO NOTHING: a unique violation would abort the whole transaction, and
 * with it the mutation's stored outcome, where a skipped insert lets the caller decide. One plain
 * statement: Prisma's createManyAndReturn of one row costs three times its CPU (see the README's
 * performance section). `meta` goes over as JSON text, so every key is kept (see exactJson).
 */
async function insertIfAbsent(tx: TransactionClient, workspaceId: string, input: NewIdentity): Promise<Identity | undefined> {
  requireLength("externalId", input.externalId, 1, 255);
  const meta = input.meta == null ? null : JSON.stringify(requireJsonSize("meta", input.meta));
  const [created] = await tx.$queryRaw<Identity[]>`
    INSERT INTO identities (id, workspace_id, external_id, meta)
    VALUES (${uuidv7()}::uuid, ${workspaceId}::uuid, ${input.externalId}, ${meta}::jsonb)
    ON CONFLICT (workspace_id, external_id) DO NOTHING
    RETURNING ${IDENTITY_COLUMNS}`;
  return created;
}

const IDENTITY_COLUMNS = Prisma.raw(`id, workspace_id AS "workspaceId", external_id AS "externalId", meta, created_at AS "createdAt"`);
