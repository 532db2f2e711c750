import { v7 as uuidv7 } from "uuid";
import type { TransactionClient } from "../../db/transaction.ts";
import type { LedgerPosting, LedgerTransaction, Prisma } from "../../generated/prisma/client.ts";
import type { LedgerTransactionKind } from "../../generated/prisma/enums.ts";
import type { AccountRef } from "./ledger.accounts.ts";

export interface NewPosting {
  source: AccountRef;
  destination: AccountRef;
  asset: string;
  amount: bigint;
}

export interface NewLedgerTransaction {
  /** By default a new UUIDv7; a mutation's own transaction has an id from its key and input (`idFor`). */
  id?: string;
  walletId: string;
  kind: LedgerTransactionKind;
  holdId?: string;
  metadata?: unknown;
  postings: NewPosting[];
}

/** A posted transaction, as the `LedgerTransaction` model has it, with its postings. */
export type PostedTransaction = LedgerTransaction & { postings: LedgerPosting[] };

/**
 * Writes a transaction, its postings and every balance they change, in one statement. Accounts
 * open on first use. A world account is only ever inserted (never updated, so never a hot row);
 * every other account's balance moves by the net of the postings, and the database refuses any
 * that would go below zero (a CHECK): callers decide what may move, under their wallet's lock.
 */
export async function postTransaction(
  tx: TransactionClient,
  workspaceId: string,
  transaction: NewLedgerTransaction,
): Promise<PostedTransaction> {
  const id = transaction.id ?? uuidv7();
  const worlds = new Map<string, { address: string; asset: string }>();
  const moved = new Map<string, { account: AccountRef; asset: string; delta: bigint }>();
  const move = (account: AccountRef, asset: string, delta: bigint) => {
    if (account.kind === "WORLD") {
      worlds.set(`${account.address}\u0000${asset}`, { address: account.address, asset });
      return;
    }
    const key = `${account.address}\u0000${asset}`;
    const entry = moved.get(key) ?? { account, asset, delta: 0n };
    entry.delta += delta;
    moved.set(key, entry);
  };
  for (const posting of transaction.postings) {
    move(posting.source, posting.asset, -posting.amount);
    move(posting.destination, posting.asset, posting.amount);
  }
  const accounts = [...moved.values()].sort((a, b) => compare(a.account.address, b.account.address) || compare(a.asset, b.asset));
  const postings = transaction.postings;
  const debits = accounts.filter((a) => a.delta < 0n).length;
  const [row] = await tx.$queryRaw<{ createdAt: Date; debited: number }[]>`
    WITH moves AS (
      SELECT * FROM unnest(
        ${accounts.map((a) => a.account.address)}::text[], ${accounts.map((a) => a.asset)}::text[],
        ${accounts.map((a) => a.account.kind)}::text[], ${accounts.map((a) => a.delta.toString())}::bigint[],
        ${accounts.map((a) => a.account.walletId ?? null)}::uuid[], ${accounts.map((a) => a.account.balanceId ?? null)}::uuid[]
      ) AS m(address, asset, kind, delta, wallet_id, balance_id)
    ), worlds AS (
      INSERT INTO ledger_accounts (workspace_id, address, asset, kind)
      SELECT ${workspaceId}::uuid, w.address, w.asset, 'WORLD'
      FROM unnest(${[...worlds.values()].map((w) => w.address)}::text[], ${[...worlds.values()].map((w) => w.asset)}::text[]) AS w(address, asset)
      ON CONFLICT (workspace_id, address, asset) DO NOTHING
    ), credited AS (
      -- An account opens on its first credit. (The CHECK applies to the row proposed for insertion
      -- even when it conflicts, so only credits go through this upsert.)
      INSERT INTO ledger_accounts AS account (workspace_id, address, asset, kind, balance, wallet_id, balance_id)
      SELECT ${workspaceId}::uuid, m.address, m.asset, m.kind::"LedgerAccountKind", m.delta, m.wallet_id, m.balance_id
      FROM moves m WHERE m.delta > 0
      ON CONFLICT (workspace_id, address, asset) DO UPDATE SET balance = account.balance + excluded.balance
    ), debited AS (
      UPDATE ledger_accounts a SET balance = a.balance + m.delta
      FROM moves m
      WHERE a.workspace_id = ${workspaceId}::uuid AND a.address = m.address AND a.asset = m.asset AND m.delta < 0
      RETURNING 1
    ), inserted AS (
      INSERT INTO ledger_transactions (id, workspace_id, wallet_id, kind, hold_id, metadata)
      VALUES (${id}::uuid, ${workspaceId}::uuid, ${transaction.walletId}::uuid, ${transaction.kind}::"LedgerTransactionKind",
              ${transaction.holdId ?? null}::uuid, ${transaction.metadata === undefined ? null : JSON.stringify(transaction.metadata)}::jsonb)
      RETURNING created_at
    ), posted AS (
      INSERT INTO ledger_postings (workspace_id, transaction_id, seq, source, destination, asset, amount)
      SELECT ${workspaceId}::uuid, ${id}::uuid, p.seq, p.source, p.destination, p.asset, p.amount
      FROM unnest(
        ${postings.map((_, seq) => seq)}::int[], ${postings.map((p) => p.source.address)}::text[],
        ${postings.map((p) => p.destination.address)}::text[], ${postings.map((p) => p.asset)}::text[],
        ${postings.map((p) => p.amount.toString())}::bigint[]
      ) AS p(seq, source, destination, asset, amount)
    )
    SELECT created_at AS "createdAt", (SELECT count(*) FROM debited)::int AS debited FROM inserted`;
  // Only an account that exists can be debited (it was credited first); anything else is a bug.
  if (row!.debited !== debits) throw new Error(`a posting debits an account that does not exist (${row!.debited} of ${debits} found)`);
  return {
    id,
    workspaceId,
    walletId: transaction.walletId,
    kind: transaction.kind,
    holdId: transaction.holdId ?? null,
    metadata: (transaction.metadata ?? null) as Prisma.JsonValue,
    createdAt: row!.createdAt,
    postings: postings.map((posting, seq) => ({
      workspaceId,
      transactionId: id,
      seq,
      source: posting.source.address,
      destination: posting.destination.address,
      asset: posting.asset,
      amount: posting.amount,
    })),
  };
}

/** A posted transaction with its postings, if there is one under this id. */
export async function findPosted(
  tx: TransactionClient,
  workspaceId: string,
  transactionId: string | undefined,
): Promise<PostedTransaction | null> {
  if (transactionId === undefined) return null;
  return (await tx.ledgerTransaction.findUnique({
    where: { workspaceId_id: { workspaceId, id: transactionId } },
    include: { postings: { orderBy: { seq: "asc" } } },
  })) as PostedTransaction | null;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
