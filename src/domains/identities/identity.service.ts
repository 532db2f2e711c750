import { v7 as uuidv7 } from "uuid";
import type { TransactionClient } from "../../db/transaction.ts";
import type { Identity } from "../../generated/prisma/client.ts";
import type { MutationScope } from "../../idempotency/mutation-field.ts";
import { requireJsonSize, requireLength } from "../../schema/validation.ts";
import { IdentityAlreadyExistsError } from "./identity.errors.ts";

/** Ids of identities made by createIdentity are UUIDv5s of the workspace, the key and the input. */
export const IDENTITY_ID_NAMESPACE = "1c9e4b7a-3d2f-4a6e-8b15-6964656e7479";

export interface NewIdentity {
  externalId: string;
  meta?: unknown;
}

/**
 * A new identity; its externalId must not be taken in the workspace, unless by the identity this
 * very key and input made before (a retry after the stored outcome expired), which is the answer.
 */
export async function createIdentity({ tx, sql, workspaceId, idFor, foundEarlier }: MutationScope, input: NewIdentity): Promise<Identity> {
  const id = idFor(IDENTITY_ID_NAMESPACE);
  // Past the Prisma client: its raw-query path cost more CPU than the INSERT (see the README's performance section).
  const created = await insertIfAbsent(sql, workspaceId, input, id);
  if (created) return created;
  const taken = await tx.identity.findUnique({ where: { workspaceId_externalId: { workspaceId, externalId: input.externalId } } });
  if (taken?.id !== id) throw new IdentityAlreadyExistsError(input.externalId);
  return foundEarlier(taken);
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
  const created = await insertIfAbsent((text, values) => tx.$queryRawUnsafe<Identity[]>(text, ...values), workspaceId, { externalId });
  // Lost the race: the insert waited for the winner to commit, so a fresh read now sees its row.
  return created ?? tx.identity.findUniqueOrThrow({ where });
}

/**
 * INSERT ... ON CONFLICT DO NOTHING: a unique violation would abort the whole transaction, and
 * with it the mutation's stored outcome, where a skipped insert lets the caller decide. One plain
 * statement: Prisma's createManyAndReturn of one row costs three times its CPU (see the README's
 * performance section). `meta` goes over as JSON text, so every key is kept (see exactJson).
 */
async function insertIfAbsent(
  sql: (text: string, values: unknown[]) => Promise<Identity[]>,
  workspaceId: string,
  input: NewIdentity,
  id = uuidv7(),
): Promise<Identity | undefined> {
  requireLength("externalId", input.externalId, 1, 255);
  const meta = input.meta == null ? null : JSON.stringify(requireJsonSize("meta", input.meta));
  const [created] = await sql(INSERT_IF_ABSENT, [id, workspaceId, input.externalId, meta]);
  return created;
}

const INSERT_IF_ABSENT = `INSERT INTO identities (id, workspace_id, external_id, meta)
  VALUES ($1::uuid, $2::uuid, $3::text, $4::jsonb)
  ON CONFLICT (workspace_id, external_id) DO NOTHING
  RETURNING id, workspace_id AS "workspaceId", external_id AS "externalId", meta, created_at AS "createdAt"`;
