import { exactJson } from "../../db/json.ts";
import type { TransactionClient } from "../../db/transaction.ts";
import type { Wallet, WalletBalance } from "../../generated/prisma/client.ts";
import type { MutationScope } from "../../idempotency/mutation-field.ts";
import { InvalidInputError } from "../../schema/errors.ts";
import { requireJsonSize, requireLength } from "../../schema/validation.ts";
import { BalanceAlreadyExistsError, WalletNotFoundError } from "./wallet.errors.ts";

/** Wallet ids are UUIDv5s of the workspace, the clientMutationId and its input under this namespace. */
export const WALLET_ID_NAMESPACE = "5b0c6b2e-3d0e-4f5a-9a64-6f6e6365716c";
/** Ids of balances made by createBalance, likewise. */
export const BALANCE_ID_NAMESPACE = "e3b6f0a2-4c7d-4e19-8a5b-62616c616e63";

export const MAIN_BALANCE = "main";
const BALANCE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export function requireBalanceName(field: string, name: string): string {
  if (!BALANCE_NAME.test(name)) {
    throw new InvalidInputError(field, `${field} must be 1–64 letters, digits, _ or -, got ${JSON.stringify(name.slice(0, 80))}`);
  }
  return name;
}

/** Optional JSON metadata, checked and bounded like every JSON input. */
export function optionalMetadata(value: unknown): unknown {
  return value == null ? undefined : requireJsonSize("metadata", value);
}

export interface NewWallet {
  name: string;
  metadata?: unknown;
}

/**
 * A new wallet with its `main` balance. Its id comes from the clientMutationId and the input, so
 * the same key and input can never make a second wallet, even after the stored outcome has
 * expired: that retry finds the wallet the first one made.
 */
export async function createWallet({ tx, workspaceId, idFor, foundEarlier }: MutationScope, input: NewWallet): Promise<Wallet> {
  const id = idFor(WALLET_ID_NAMESPACE);
  const name = requireLength("name", input.name, 1, 200);
  const metadata = optionalMetadata(input.metadata);
  const [created] = await tx.wallet.createManyAndReturn({
    data: [{ id, workspaceId, name, metadata: metadata === undefined ? undefined : exactJson(metadata) }],
    skipDuplicates: true,
  });
  if (!created) return foundEarlier(await tx.wallet.findUniqueOrThrow({ where: { workspaceId_id: { workspaceId, id } } }));
  await tx.walletBalance.create({ data: { workspaceId, walletId: id, name: MAIN_BALANCE } });
  return created;
}

export interface NewBalance {
  walletId: string;
  name: string;
  priority?: number | null;
  expiresAt?: Date | null;
}

/** A new named balance (a name the wallet has is BalanceAlreadyExistsError), or the one this key and input made before. */
export async function createBalance({ tx, workspaceId, idFor, foundEarlier }: MutationScope, input: NewBalance): Promise<WalletBalance> {
  const id = idFor(BALANCE_ID_NAMESPACE);
  // First: by now its expiresAt may have passed, which would refuse the input.
  const made = await tx.walletBalance.findUnique({ where: { workspaceId_id: { workspaceId, id } } });
  if (made) return foundEarlier(made);
  const name = requireBalanceName("name", input.name);
  const [wallet] = await tx.$queryRaw<{ now: Date }[]>`
    SELECT now() AS now FROM wallets WHERE workspace_id = ${workspaceId}::uuid AND id = ${input.walletId}::uuid`;
  if (!wallet) throw new WalletNotFoundError(input.walletId);
  if (input.expiresAt && input.expiresAt <= wallet.now) throw new InvalidInputError("expiresAt", "expiresAt must be in the future");
  const [created] = await tx.walletBalance.createManyAndReturn({
    data: [{ id, workspaceId, walletId: input.walletId, name, priority: input.priority ?? 0, expiresAt: input.expiresAt ?? null }],
    skipDuplicates: true,
  });
  if (!created) throw new BalanceAlreadyExistsError(input.walletId, name);
  return created;
}

/**
 * Takes the wallet's lock, the first lock of every operation that moves more than one of its
 * accounts (a debit, a hold's confirmation, void or expiry): all of them queue on this one row, so
 * none can wait on another in a cycle. FOR NO KEY UPDATE leaves inserts that reference the wallet free.
 * Says whether the wallet has holds past their expiry that have not yet been released.
 */
export async function lockWallet(tx: TransactionClient, workspaceId: string, walletId: string): Promise<{ dueHolds: boolean }> {
  const [wallet] = await tx.$queryRaw<{ dueHolds: boolean }[]>`
    SELECT EXISTS (
      SELECT 1 FROM holds h
      WHERE h.workspace_id = w.workspace_id AND h.wallet_id = w.id AND h.status = 'PENDING' AND h.expires_at <= now()
    ) AS "dueHolds"
    FROM wallets w WHERE w.workspace_id = ${workspaceId}::uuid AND w.id = ${walletId}::uuid
    FOR NO KEY UPDATE OF w`;
  if (!wallet) throw new WalletNotFoundError(walletId);
  return wallet;
}
