import type { TransactionClient } from "../../db/transaction.ts";
import { type Hold, Prisma, type PrismaClient } from "../../generated/prisma/client.ts";
import type { HoldStatus } from "../../generated/prisma/enums.ts";
import type { MutationScope } from "../../idempotency/mutation-field.ts";
import { type Money, requireAmount } from "../../schema/money.ts";
import { type AccountRef, holdAccount, world } from "../ledger/ledger.accounts.ts";
import { findPosted, type NewPosting, type PostedTransaction, postTransaction } from "../ledger/ledger.post.ts";
import { AmountExceedsHoldError, HoldNotFoundError, HoldNotPendingError } from "./wallet.errors.ts";
import { lockWallet } from "./wallet.service.ts";

/** Hold ids are UUIDv5s of the workspace, the debit's clientMutationId and its input under this namespace. */
export const HOLD_ID_NAMESPACE = "9d3f4c1a-8b2e-4e57-b1c0-686f6c64730a";
/** Ids of the ledger transactions of confirmHold and voidHold, likewise. */
export const CONFIRM_ID_NAMESPACE = "4e7b1d9a-6c3f-4a2e-b8d1-636f6e666972";
export const VOID_ID_NAMESPACE = "a1f3c6e8-7d2b-4b5a-9c40-766f6964686c";

/** A `holds` row as the Hold model has it, for raw statements. */
const HOLD_COLUMNS = Prisma.raw(
  `id, workspace_id AS "workspaceId", wallet_id AS "walletId", asset, amount, remaining, status, expires_at AS "expiresAt",
   transaction_id AS "transactionId", created_at AS "createdAt", resolved_at AS "resolvedAt"`,
);

export async function findHold(tx: TransactionClient, workspaceId: string, holdId: string): Promise<Hold | null> {
  return tx.hold.findUnique({ where: { workspaceId_id: { workspaceId, id: holdId } } });
}

/** A new PENDING hold of what its debit moved into `hold:<id>`; times by the database's clock. */
export async function openHold(
  tx: TransactionClient,
  hold: { id: string; workspaceId: string; walletId: string; amount: Money; transactionId: string; expiresInSeconds?: number },
): Promise<Hold> {
  const [opened] = await tx.$queryRaw<Hold[]>`
    INSERT INTO holds (id, workspace_id, wallet_id, asset, amount, remaining, transaction_id, expires_at)
    VALUES (${hold.id}::uuid, ${hold.workspaceId}::uuid, ${hold.walletId}::uuid, ${hold.amount.asset}, ${hold.amount.value}, ${hold.amount.value},
            ${hold.transactionId}::uuid, now() + ${hold.expiresInSeconds ?? null}::int * interval '1 second')
    RETURNING ${HOLD_COLUMNS}`;
  return opened!;
}

export interface Confirmation {
  holdId: string;
  amount?: bigint | null;
  final: boolean;
}

/**
 * Confirms `amount` of a pending hold (all that remains when omitted): it leaves to the world.
 * With `final`, or once nothing remains, the hold is CONFIRMED and what remains goes back where it
 * came from. A hold past its expiry is released first, and the answer is HOLD_NOT_PENDING.
 */
export async function confirmHold(scope: MutationScope, input: Confirmation): Promise<{ hold: Hold; transaction: PostedTransaction }> {
  const id = scope.idFor(CONFIRM_ID_NAMESPACE);
  const made = await madeEarlier(scope, id);
  if (made) return made;
  const requested = input.amount == null ? undefined : requireAmount("amount", input.amount);
  const hold = await pendingHoldForUpdate(scope, input.holdId);
  const amount = requested ?? hold.remaining;
  if (amount > hold.remaining) throw new AmountExceedsHoldError(hold.id, { asset: hold.asset, value: hold.remaining });
  const left = hold.remaining - amount;
  const resolved = input.final || left === 0n;
  const account = holdAccount(hold.walletId, hold.id);
  const postings: NewPosting[] = [{ source: account, destination: world, asset: hold.asset, amount }];
  if (resolved && left > 0n) postings.push(...(await returnToSources(scope.tx, scope.workspaceId, hold, left)));
  const transaction = await postTransaction(scope.tx, scope.workspaceId, {
    id,
    walletId: hold.walletId,
    kind: "CONFIRM",
    holdId: hold.id,
    postings,
  });
  return { hold: await settle(scope.tx, hold, resolved ? "CONFIRMED" : "PENDING", resolved ? 0n : left), transaction };
}

/** Sends everything a pending hold still holds back where it came from; the hold is VOIDED. */
export async function voidHold(scope: MutationScope, holdId: string): Promise<{ hold: Hold; transaction: PostedTransaction | null }> {
  const id = scope.idFor(VOID_ID_NAMESPACE);
  const made = await madeEarlier(scope, id);
  if (made) return made;
  const hold = await pendingHoldForUpdate(scope, holdId);
  const transaction = await release(scope.tx, scope.workspaceId, hold, "VOID", id);
  return { hold: await settle(scope.tx, hold, "VOIDED", 0n), transaction };
}

/**
 * The transaction this key and input posted on a hold before (its stored outcome has expired
 * since), with the hold as it is now: the answer to a late retry, which confirms or voids nothing.
 */
async function madeEarlier(
  scope: MutationScope,
  transactionId: string,
): Promise<{ hold: Hold; transaction: PostedTransaction } | undefined> {
  const transaction = await findPosted(scope.tx, scope.workspaceId, transactionId);
  if (!transaction) return undefined;
  return scope.foundEarlier({ hold: (await findHold(scope.tx, scope.workspaceId, transaction.holdId!))!, transaction });
}

/**
 * Releases the wallet's holds that are past their expiry: each is EXPIRED and what it still holds
 * goes back, exactly once whoever comes first (a read, a mutation, the sweeper), since each first
 * takes the wallet's lock and only a PENDING hold is released. Run under that lock; says how many.
 */
export async function expireDueHolds(tx: TransactionClient, workspaceId: string, walletId: string): Promise<number> {
  const due = await tx.$queryRaw<Hold[]>`
    SELECT ${HOLD_COLUMNS} FROM holds
    WHERE workspace_id = ${workspaceId}::uuid AND wallet_id = ${walletId}::uuid AND status = 'PENDING' AND expires_at <= now()
    ORDER BY id`;
  for (const hold of due) {
    await release(tx, workspaceId, hold, "EXPIRE");
    await settle(tx, hold, "EXPIRED", 0n);
  }
  return due.length;
}

/** Releases expired holds of a wallet, in a transaction of its own (reads, the sweeper). */
export async function expireWalletHolds(prisma: PrismaClient, workspaceId: string, walletId: string): Promise<number> {
  return prisma.$transaction(async (tx) => {
    const { dueHolds } = await lockWallet(tx, workspaceId, walletId);
    return dueHolds ? expireDueHolds(tx, workspaceId, walletId) : 0;
  });
}

/**
 * For reads: releases the expired holds of a wallet (or of the wallet of one hold) when it has
 * any, so nobody reads a hold past its expiry as PENDING nor misses the funds it gives back.
 */
export async function releaseExpiredHolds(
  prisma: PrismaClient,
  workspaceId: string,
  of: { walletId: string } | { holdId: string },
): Promise<void> {
  const [due] = await prisma.$queryRaw<{ walletId: string }[]>`
    SELECT wallet_id AS "walletId" FROM holds
    WHERE workspace_id = ${workspaceId}::uuid AND status = 'PENDING' AND expires_at <= now()
      AND ${"walletId" in of ? Prisma.sql`wallet_id = ${of.walletId}::uuid` : Prisma.sql`id = ${of.holdId}::uuid`}
    LIMIT 1`;
  if (due) await expireWalletHolds(prisma, workspaceId, due.walletId);
}

/** The server's sweeper: every wallet with holds past their expiry, a few wallets at a time. */
export async function sweepExpiredHolds(prisma: PrismaClient, options: { batchSize?: number } = {}): Promise<number> {
  let released = 0;
  for (;;) {
    const wallets = await prisma.$queryRaw<{ workspaceId: string; walletId: string }[]>`
      SELECT DISTINCT workspace_id AS "workspaceId", wallet_id AS "walletId" FROM holds
      WHERE status = 'PENDING' AND expires_at <= now() LIMIT ${options.batchSize ?? 100}`;
    let batch = 0;
    for (const { workspaceId, walletId } of wallets) batch += await expireWalletHolds(prisma, workspaceId, walletId);
    released += batch;
    if (batch === 0) return released;
  }
}

/** The hold, locked after its wallet's lock, if it is still pending; expired ones are released first. */
async function pendingHoldForUpdate(scope: MutationScope, holdId: string): Promise<Hold> {
  const { tx, workspaceId } = scope;
  const found = await findHold(tx, workspaceId, holdId);
  if (!found) throw new HoldNotFoundError(holdId);
  const { dueHolds } = await lockWallet(tx, workspaceId, found.walletId);
  if (dueHolds && (await expireDueHolds(tx, workspaceId, found.walletId)) > 0) await scope.checkpoint();
  // Read again under the lock: another request may have resolved it meanwhile.
  const hold = (await findHold(tx, workspaceId, holdId))!;
  if (hold.status !== "PENDING") throw new HoldNotPendingError(hold.id, hold.status);
  return hold;
}

async function release(
  tx: TransactionClient,
  workspaceId: string,
  hold: Hold,
  kind: "VOID" | "EXPIRE",
  id?: string,
): Promise<PostedTransaction | null> {
  if (hold.remaining === 0n) return null;
  const postings = await returnToSources(tx, workspaceId, hold, hold.remaining);
  return postTransaction(tx, workspaceId, { id, walletId: hold.walletId, kind, holdId: hold.id, postings });
}

/**
 * Postings that send `amount` of a hold back to the balances that funded it. Confirmations use the
 * funds in the order the debit took them, so what remains is the last taken: it goes back to those
 * balances, the last one first.
 */
async function returnToSources(tx: TransactionClient, workspaceId: string, hold: Hold, amount: bigint): Promise<NewPosting[]> {
  const funding = await tx.ledgerPosting.findMany({
    where: { workspaceId, transactionId: hold.transactionId, destination: holdAccount(hold.walletId, hold.id).address },
    orderBy: { seq: "desc" },
    include: { sourceAccount: { select: { address: true, kind: true, walletId: true, balanceId: true } } },
  });
  const postings: NewPosting[] = [];
  let left = amount;
  for (const posting of funding) {
    if (left === 0n) break;
    const back = posting.amount < left ? posting.amount : left;
    const { address, kind, walletId, balanceId } = posting.sourceAccount;
    const destination: AccountRef = { address, kind, walletId: walletId ?? undefined, balanceId: balanceId ?? undefined };
    postings.push({ source: holdAccount(hold.walletId, hold.id), destination, asset: hold.asset, amount: back });
    left -= back;
  }
  return postings;
}

/** Stores what a hold still holds and its status; a resolved hold gets the database's time. */
async function settle(tx: TransactionClient, hold: Hold, status: HoldStatus, remaining: bigint): Promise<Hold> {
  const [settled] = await tx.$queryRaw<Hold[]>`
    UPDATE holds SET status = ${status}::"HoldStatus", remaining = ${remaining},
      resolved_at = CASE WHEN ${status} = 'PENDING' THEN NULL ELSE now() END
    WHERE workspace_id = ${hold.workspaceId}::uuid AND id = ${hold.id}::uuid
    RETURNING ${HOLD_COLUMNS}`;
  return settled!;
}
