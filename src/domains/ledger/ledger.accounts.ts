/**
 * Accounts are known by their address, one account per address and asset:
 * - `world`: where money enters and leaves the ledger; it may go negative, so it keeps no balance;
 * - `wallet:<wallet id>:<balance name>`: a wallet balance;
 * - `hold:<hold id>`: funds a pending debit holds.
 */
export const WORLD = "world";

export type AccountKind = "WORLD" | "BALANCE" | "HOLD";

/** An account a posting touches, with what it takes to open it on first use. */
export interface AccountRef {
  address: string;
  kind: AccountKind;
  walletId?: string;
  balanceId?: string;
}

export const world: AccountRef = { address: WORLD, kind: "WORLD" };

export function balanceAccount(walletId: string, balance: { id: string; name: string }): AccountRef {
  return { address: `wallet:${walletId}:${balance.name}`, kind: "BALANCE", walletId, balanceId: balance.id };
}

export function holdAccount(walletId: string, holdId: string): AccountRef {
  return { address: `hold:${holdId}`, kind: "HOLD", walletId };
}
