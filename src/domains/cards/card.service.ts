import { sqlState, type TransactionClient } from "../../db/transaction.ts";
import type { Card, CardOrigin, CardStatus } from "../../generated/prisma/client.ts";
import type { MutationScope } from "../../idempotency/mutation-field.ts";
import { IdentityNotFoundError } from "../identities/identity.errors.ts";
import type { CardDependencies } from "./card.dependencies.ts";
import { CardNotFoundError, IdentityHasActiveCardError } from "./card.errors.ts";
import type { IssuerCard } from "./issuer.client.ts";
import { issuerUnavailable } from "./issuer.errors.ts";

/** The id of the createCard call that issued or adopted a card: a UUIDv5 of the workspace, its key and its input. */
export const CARD_OPERATION_ID_NAMESPACE = "6d1a9f3b-8e2c-4b7d-a5f0-636172646f70";

/**
 * The identity's one ACTIVE card: the one this database holds; else the first ACTIVE card the
 * issuer lists that this database does not hold (an orphan, left by an attempt whose response was
 * lost), adopted; else a new one from the issuer. Calls for one identity run one at a time (a row
 * lock on the identity, held while the issuer answers), so however many keys race, the issuer is
 * asked for one card. A retry after the stored outcome expired finds the card this key and input
 * issued or adopted, in whatever state it is now, and asks the issuer for nothing.
 */
export async function createCard(scope: MutationScope, identityId: string, deps: CardDependencies): Promise<Card> {
  const { tx, workspaceId } = scope;
  const operationId = scope.idFor(CARD_OPERATION_ID_NAMESPACE);
  const made = await tx.card.findUnique({ where: { workspaceId_operationId: { workspaceId, operationId } } });
  if (made) return scope.foundEarlier(made);
  await lockIdentity(tx, workspaceId, identityId, deps.lockTimeoutMs);
  const held = await tx.card.findMany({ where: { workspaceId, identityId } });
  const active = held.find((card) => card.status === "ACTIVE");
  if (active) return active;

  // Whatever this database holds, in any state, is not an orphan: a card it deleted stays deleted.
  const heldIds = new Set(held.map((card) => card.id));
  const orphans = (await deps.issuer.listCards(identityId)).filter((card) => card.status === "ACTIVE" && !heldIds.has(card.id));
  for (const orphan of orphans) {
    const adopted = await insertIfAbsent(tx, { workspaceId, identityId, operationId }, orphan, "ADOPTED");
    if (adopted) {
      deps.adopted({ workspaceId, identityId, cardId: adopted.id });
      return adopted;
    }
  }
  const issued = await deps.issuer.createCard(identityId);
  const created = await insertIfAbsent(tx, { workspaceId, identityId, operationId }, issued, "ISSUED");
  if (!created) throw new Error(`the issuer's new card ${issued.id} is already held by this database`);
  return created;
}

export interface CardStatusChange {
  cardId: string;
  status: CardStatus;
}

/** Tells the issuer first, then records it; a DELETED card is gone for good. */
export async function setCardStatus(
  tx: TransactionClient,
  workspaceId: string,
  change: CardStatusChange,
  deps: CardDependencies,
): Promise<Card> {
  const where = { workspaceId_id: { workspaceId, id: change.cardId } };
  const owner = await tx.card.findUnique({ where, select: { identityId: true } });
  if (!owner) throw new CardNotFoundError(change.cardId);
  // The same lock as createCard's, so an activation and a creation for one identity cannot both
  // see no ACTIVE card.
  await lockIdentity(tx, workspaceId, owner.identityId, deps.lockTimeoutMs);
  const card = await tx.card.findUniqueOrThrow({ where });
  if (card.status === "DELETED") throw new CardNotFoundError(change.cardId);
  if (change.status === "ACTIVE" && card.status !== "ACTIVE") await requireNoActiveCard(tx, workspaceId, card.identityId, deps);
  // Told even when nothing changes here: a lost earlier attempt may have left the issuer elsewhere.
  await deps.issuer.setCardStatus(card.id, change.status);
  return tx.card.update({
    where,
    data: { status: change.status, activeIdentityId: change.status === "ACTIVE" ? card.identityId : null },
  });
}

/**
 * Before a card is activated: no other card of the identity is ACTIVE, here or at the issuer. An
 * ACTIVE orphan there (a creation whose answer was lost, not yet adopted) counts: the next
 * createCard adopts it, and it can then be frozen.
 */
async function requireNoActiveCard(tx: TransactionClient, workspaceId: string, identityId: string, deps: CardDependencies): Promise<void> {
  const held = await tx.card.findMany({ where: { workspaceId, identityId }, select: { id: true, status: true } });
  const active = held.find((card) => card.status === "ACTIVE");
  if (active) throw new IdentityHasActiveCardError(identityId, active.id);
  const heldIds = new Set(held.map((card) => card.id));
  const orphan = (await deps.issuer.listCards(identityId)).find((card) => card.status === "ACTIVE" && !heldIds.has(card.id));
  if (orphan) throw new IdentityHasActiveCardError(identityId, orphan.id);
}

/**
 * Takes the identity's row lock for the rest of the transaction, waiting at most `lockTimeoutMs`
 * for another card mutation of that identity (which may be waiting on the issuer itself).
 */
async function lockIdentity(tx: TransactionClient, workspaceId: string, identityId: string, lockTimeoutMs: number): Promise<void> {
  await tx.$executeRawUnsafe(`SET LOCAL lock_timeout = ${Math.round(lockTimeoutMs)}`);
  let locked: unknown[];
  try {
    locked = await tx.$queryRaw<unknown[]>`
      SELECT 1 FROM identities WHERE workspace_id = ${workspaceId}::uuid AND id = ${identityId}::uuid FOR UPDATE`;
  } catch (error) {
    if (sqlState(error) === "55P03") throw issuerUnavailable("another card operation for this identity is still waiting on the issuer");
    throw error;
  }
  if (locked.length === 0) throw new IdentityNotFoundError(identityId);
}

/**
 * INSERT ... ON CONFLICT DO NOTHING: a row this database already holds under that id (whatever
 * its state) is left as it is and never makes the transaction fail; undefined then.
 */
async function insertIfAbsent(
  tx: TransactionClient,
  holder: { workspaceId: string; identityId: string; operationId: string },
  card: IssuerCard,
  origin: CardOrigin,
): Promise<Card | undefined> {
  const { workspaceId, identityId, operationId } = holder;
  const [inserted] = await tx.card.createManyAndReturn({
    data: [
      {
        id: card.id,
        workspaceId,
        identityId,
        operationId,
        activeIdentityId: card.status === "ACTIVE" ? identityId : null,
        last4: card.last4,
        expMonth: card.expMonth,
        expYear: card.expYear,
        status: card.status,
        origin,
      },
    ],
    skipDuplicates: true,
  });
  return inserted;
}
