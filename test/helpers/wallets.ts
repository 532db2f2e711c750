import { randomUUID } from "node:crypto";
import { expect } from "vitest";
import type { Database } from "../../src/db/database.ts";
import { formatAudit, verifyLedger } from "../../src/domains/ledger/ledger.verify.ts";
import type { TestApp } from "./test-app.ts";

export const USD = "USD/2";

/** A new wallet's id. */
export async function newWallet(t: TestApp, name = "wallet", token?: string): Promise<string> {
  const result = await t.sdk(token ? { token } : {}).CreateWallet({ input: { clientMutationId: `wallet-${randomUUID()}`, name } });
  if (result.data.createWallet?.__typename !== "CreateWalletPayload")
    throw new Error(`createWallet answered ${result.data.createWallet?.__typename}`);
  return result.data.createWallet.wallet.id;
}

/** Credits a wallet balance; the transaction's id. */
export async function credit(t: TestApp, walletId: string, value: bigint | number, options: { asset?: string; balance?: string } = {}) {
  const result = await t.sdk().CreditWallet({
    input: {
      clientMutationId: `credit-${randomUUID()}`,
      walletId,
      amount: { asset: options.asset ?? USD, value: String(value) },
      balance: options.balance,
    },
  });
  if (result.data.creditWallet?.__typename !== "CreditWalletPayload")
    throw new Error(`creditWallet answered ${result.data.creditWallet?.__typename}`);
  return result.data.creditWallet.transaction.id;
}

export async function newBalance(t: TestApp, walletId: string, name: string, options: { priority?: number; expiresAt?: Date } = {}) {
  const result = await t.sdk().CreateBalance({ input: { clientMutationId: `balance-${randomUUID()}`, walletId, name, ...options } });
  if (result.data.createBalance?.__typename !== "CreateBalancePayload")
    throw new Error(`createBalance answered ${result.data.createBalance?.__typename}`);
  return result.data.createBalance.balance;
}

/** What each balance of the wallet holds in `asset`, by name, as the API shows it. */
export async function balancesOf(t: TestApp, walletId: string, asset = USD): Promise<Record<string, bigint>> {
  const { data } = await t.sdk().Wallet({ id: walletId });
  return Object.fromEntries(
    (data.wallet?.balances ?? []).map((balance) => [
      balance.name,
      BigInt(balance.available.find((money) => money.asset === asset)?.value ?? 0),
    ]),
  );
}

/** `npm run cli -- ledger verify`'s check: every asset sums to zero, nothing negative, nothing drifted. */
export async function expectLedgerSound(db: Database): Promise<void> {
  const audit = await verifyLedger(db.prisma);
  expect(audit.ok, formatAudit(audit)).toBe(true);
}
