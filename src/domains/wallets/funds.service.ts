import { sqlState } from "../../db/transaction.ts";
import type { Hold } from "../../generated/prisma/client.ts";
import type { MutationScope } from "../../idempotency/mutation-field.ts";
import { InvalidInputError } from "../../schema/errors.ts";
import { type Money, requireMoney } from "../../schema/money.ts";
import { balanceAccount, holdAccount, world } from "../ledger/ledger.accounts.ts";
import { findPosted, type NewPosting, type PostedTransaction, postTransaction } from "../ledger/ledger.post.ts";
import { expireDueHolds, findHold, HOLD_ID_NAMESPACE, openHold } from "./hold.service.ts";
import { BalanceNotFoundError, InsufficientFundsError, WalletNotFoundError } from "./wallet.errors.ts";
import { lockWallet, MAIN_BALANCE, optionalMetadata, requireBalanceName } from "./wallet.service.ts";

/** Every unexpired balance of the wallet, in the order `["*"]` spends them. */
export const ALL_BALANCES = "*";
/** Ids of the ledger transactions of creditWallet and debitWallet: UUIDv5s of the workspace, the key and the input. */
export const CREDIT_ID_NAMESPACE = "0f5a8c3e-2b7d-4e91-a6c4-637265646974";
export const DEBIT_ID_NAMESPACE = "b82e6d4f-1a9c-4f37-8d05-6465626974ab";
const MAX_HOLD_SECONDS = 366 * 24 * 3600;

export interface Credit {
  walletId: string;
  amount: Money;
  balance: string;
  metadata?: unknown;
}

/**
 * Money entering a wallet balance from the world, once per key and input: a retry after the stored
 * outcome expired finds the transaction its first run posted.
 */
export async function creditWallet(scope: MutationScope, input: Credit): Promise<PostedTransaction> {
  const id = scope.idFor(CREDIT_ID_NAMESPACE);
  const made = await findPosted(scope.tx, scope.workspaceId, id);
  if (made) return scope.foundEarlier(made);
  return credit(scope, input, id);
}

/** Money entering a wallet balance from the world. One account moves, so no lock is needed. */
export async function credit({ tx, workspaceId }: MutationScope, input: Credit, transactionId?: string): Promise<PostedTransaction> {
  const amount = requireMoney("amount", input.amount);
  const name = requireBalanceName("balance", input.balance);
  const metadata = optionalMetadata(input.metadata);
  const [found] = await tx.$queryRaw<{ balanceId: string | null; expired: boolean | null }[]>`
    SELECT b.id AS "balanceId", b.expires_at <= now() AS expired
    FROM wallets w
    LEFT JOIN wallet_balances b ON b.workspace_id = w.workspace_id AND b.wallet_id = w.id AND b.name = ${name}
    WHERE w.workspace_id = ${workspaceId}::uuid AND w.id = ${input.walletId}::uuid`;
  if (!found) throw new WalletNotFoundError(input.walletId);
  if (!found.balanceId) throw new BalanceNotFoundError(input.walletId, name);
  if (found.expired) throw new InvalidInputError("balance", `balance ${name} has expired: it can no longer be credited`);
  const destination = balanceAccount(input.walletId, { id: found.balanceId, name });
  try {
    return await postTransaction(tx, workspaceId, {
      id: transactionId,
      walletId: input.walletId,
      kind: "CREDIT",
      metadata,
      postings: [{ source: world, destination, asset: amount.asset, amount: amount.value }],
    });
  } catch (error) {
    // bigint out of range: the balance would pass 2^63−1.
    if (sqlState(error) === "22003") throw new InvalidInputError("amount", "amount would take the balance past 2^63−1");
    throw error;
  }
}

export interface Debit {
  walletId: string;
  amount: Money;
  balances: string[];
  pending: boolean;
  holdExpiresInSeconds?: number | null;
  metadata?: unknown;
}

export interface DebitResult {
  transaction: PostedTransaction;
  hold: Hold | null;
}

/**
 * Money leaving a wallet: to the world, or, pending, into a hold. Under the wallet's lock it first
 * releases holds that have expired (kept even if the debit is then refused), then takes from the
 * balances asked for, in order, and records exactly which postings it chose: a replay answers with
 * them, whatever has expired since.
 */
export async function debitWallet(scope: MutationScope, input: Debit): Promise<DebitResult> {
  const holdId = input.pending ? scope.idFor(HOLD_ID_NAMESPACE) : undefined;
  const transactionId = input.pending ? undefined : scope.idFor(DEBIT_ID_NAMESPACE);
  // The key and input made this debit before, and its stored outcome has expired since: it is the answer.
  const hold = holdId ? await findHold(scope.tx, scope.workspaceId, holdId) : null;
  const made = await findPosted(scope.tx, scope.workspaceId, hold?.transactionId ?? transactionId);
  if (made) return scope.foundEarlier({ transaction: made, hold });
  const checked = checkDebit(input);
  await prepareWallet(scope, input.walletId);
  return takeFunds(scope, input.walletId, checked, { holdId, transactionId });
}

/**
 * The first step of every mutation that takes money from a wallet, before any effect of its own:
 * takes the wallet's lock and releases its expired holds, a release that is kept even if the
 * mutation then answers with a UserError (it is a checkpoint: everything before it is kept).
 */
export async function prepareWallet(scope: MutationScope, walletId: string): Promise<void> {
  const wallet = await lockWallet(scope.tx, scope.workspaceId, walletId);
  if (wallet.dueHolds && (await expireDueHolds(scope.tx, scope.workspaceId, walletId)) > 0) await scope.checkpoint();
}

/** A debit's input, checked: what `takeFunds` moves. */
export interface CheckedDebit {
  amount: Money;
  balances: string[] | "all";
  expiresInSeconds?: number;
  metadata?: unknown;
}

export function checkDebit(input: Omit<Debit, "walletId">): CheckedDebit {
  return {
    amount: requireMoney("amount", input.amount),
    balances: requireBalanceSelection(input.balances),
    expiresInSeconds: requireHoldExpiry(input),
    metadata: optionalMetadata(input.metadata),
  };
}

/**
 * Takes `amount` from the wallet's balances, in order, to the world, or into the hold `holdId`;
 * InsufficientFundsError when they do not hold enough. Run after `prepareWallet` (it takes the
 * lock again, which costs nothing in the same transaction, and releases any hold that expired
 * since, without a checkpoint: its caller may have done work of its own by now).
 */
export async function takeFunds(
  scope: MutationScope,
  walletId: string,
  debit: CheckedDebit,
  ids: { holdId?: string; transactionId?: string } = {},
): Promise<DebitResult> {
  const { holdId } = ids;
  const { tx, workspaceId } = scope;
  const { amount } = debit;
  const wallet = await lockWallet(tx, workspaceId, walletId);
  if (wallet.dueHolds) await expireDueHolds(tx, workspaceId, walletId);
  const sources = await spendable(scope, walletId, amount.asset, debit.balances);
  const postings: NewPosting[] = [];
  const destination = holdId ? holdAccount(walletId, holdId) : world;
  let left = amount.value;
  for (const source of sources) {
    if (left === 0n) break;
    const take = source.balance < left ? source.balance : left;
    if (take > 0n) postings.push({ source: balanceAccount(walletId, source), destination, asset: amount.asset, amount: take });
    left -= take;
  }
  if (left > 0n) {
    const available = sources.reduce((sum, source) => sum + source.balance, 0n);
    throw new InsufficientFundsError(amount, { asset: amount.asset, value: available });
  }
  const transaction = await postTransaction(tx, workspaceId, {
    id: ids.transactionId,
    walletId,
    kind: holdId ? "HOLD" : "DEBIT",
    holdId,
    metadata: debit.metadata,
    postings,
  });
  if (!holdId) return { transaction, hold: null };
  const hold = await openHold(tx, {
    id: holdId,
    workspaceId,
    walletId,
    amount,
    transactionId: transaction.id,
    expiresInSeconds: debit.expiresInSeconds,
  });
  return { transaction, hold };
}

interface Source {
  id: string;
  name: string;
  balance: bigint;
}

/**
 * The balances a debit may take from, in the order it takes: for `["*"]` every balance that has
 * not expired, those that expire first (earliest first), then by ascending priority, `main` last;
 * for names, those balances in the order given. Expired balances hold nothing spendable.
 */
async function spendable({ tx, workspaceId }: MutationScope, walletId: string, asset: string, names: string[] | "all"): Promise<Source[]> {
  const rows = await tx.$queryRaw<(Source & { expired: boolean })[]>`
    SELECT b.id, b.name, coalesce(a.balance, 0) AS balance, coalesce(b.expires_at <= now(), false) AS expired
    FROM wallet_balances b
    LEFT JOIN ledger_accounts a ON a.workspace_id = b.workspace_id AND a.balance_id = b.id AND a.asset = ${asset}
    WHERE b.workspace_id = ${workspaceId}::uuid AND b.wallet_id = ${walletId}::uuid
      AND (${names === "all"} OR b.name = ANY(${names === "all" ? [] : names}::text[]))
    ORDER BY b.expires_at IS NULL, b.expires_at, b.name = ${MAIN_BALANCE}, b.priority, b.created_at, b.name`;
  if (names !== "all") {
    const missing = names.find((name) => !rows.some((row) => row.name === name));
    if (missing) throw new BalanceNotFoundError(walletId, missing);
    rows.sort((a, b) => names.indexOf(a.name) - names.indexOf(b.name));
  }
  return rows.filter((row) => !row.expired);
}

function requireBalanceSelection(balances: string[]): string[] | "all" {
  if (balances.length === 0) throw new InvalidInputError("balances", `balances must name at least one balance, or be ["${ALL_BALANCES}"]`);
  if (balances.includes(ALL_BALANCES)) {
    if (balances.length > 1) throw new InvalidInputError("balances", `"${ALL_BALANCES}" stands alone: it already means every balance`);
    return "all";
  }
  if (balances.length > 32) throw new InvalidInputError("balances", "balances may name at most 32 balances");
  if (new Set(balances).size !== balances.length) throw new InvalidInputError("balances", "balances names a balance twice");
  return balances.map((name) => requireBalanceName("balances", name));
}

function requireHoldExpiry(input: Pick<Debit, "pending" | "holdExpiresInSeconds">): number | undefined {
  const seconds = input.holdExpiresInSeconds;
  if (seconds == null) return undefined;
  if (!input.pending) throw new InvalidInputError("holdExpiresInSeconds", "holdExpiresInSeconds is for pending debits only");
  if (seconds < 1 || seconds > MAX_HOLD_SECONDS) {
    throw new InvalidInputError("holdExpiresInSeconds", `holdExpiresInSeconds must be 1–${MAX_HOLD_SECONDS} (a year), got ${seconds}`);
  }
  return seconds;
}
