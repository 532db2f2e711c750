import { defineIdempotentMutation } from "../../idempotency/mutation-field.ts";
import { MoneyInput } from "../../schema/money.ts";
import { rowIdField } from "../../schema/row-ids.ts";
import { creditWallet, debitWallet } from "./funds.service.ts";
import { Hold } from "./hold.type.ts";
import { Transaction } from "./transaction.type.ts";
import { BalanceAlreadyExistsError, BalanceNotFoundError, InsufficientFundsError, WalletNotFoundError } from "./wallet.errors.ts";
import { createBalance, createWallet, MAIN_BALANCE } from "./wallet.service.ts";
import { Balance, Wallet } from "./wallet.type.ts";

defineIdempotentMutation("createWallet", {
  description: "Creates a wallet with a balance named main. Its id comes from the clientMutationId: a retry never makes another.",
  input: (t) => ({
    name: t.string({ required: true }),
    metadata: t.field({ type: "JSON" }),
  }),
  payload: { wallet: Wallet },
  onlyDatabaseEffects: true,
  run: async (input, scope) => ({ wallet: await createWallet(scope, input) }),
});

defineIdempotentMutation("createBalance", {
  description: "Adds a named balance to a wallet: spent by priority (lower first), after those that expire, before main.",
  input: (t) => ({
    walletId: rowIdField(t, WalletNotFoundError),
    name: t.string({ required: true }),
    priority: t.int(),
    expiresAt: t.field({ type: "DateTime" }),
  }),
  payload: { balance: Balance },
  errors: [WalletNotFoundError, BalanceAlreadyExistsError],
  onlyDatabaseEffects: true,
  run: async (input, scope) => ({ balance: await createBalance(scope, input) }),
});

defineIdempotentMutation("creditWallet", {
  description: "Money entering a wallet balance (main unless named).",
  input: (t) => ({
    walletId: rowIdField(t, WalletNotFoundError),
    amount: t.field({ type: MoneyInput, required: true }),
    balance: t.string({ required: true, defaultValue: MAIN_BALANCE }),
    metadata: t.field({ type: "JSON" }),
  }),
  payload: { transaction: Transaction },
  errors: [WalletNotFoundError, BalanceNotFoundError],
  onlyDatabaseEffects: true,
  run: async (input, scope) => ({ transaction: await creditWallet(scope, input) }),
});

defineIdempotentMutation("debitWallet", {
  description:
    'Money leaving a wallet, taken from `balances` in order (["*"]: every unexpired balance, those that expire first, then by priority, main last). ' +
    "Pending, it goes into a hold to confirm or void later; the postings chosen are part of the stored outcome.",
  input: (t) => ({
    walletId: rowIdField(t, WalletNotFoundError),
    amount: t.field({ type: MoneyInput, required: true }),
    balances: t.stringList({ required: true, defaultValue: [MAIN_BALANCE] }),
    pending: t.boolean({ required: true, defaultValue: false }),
    holdExpiresInSeconds: t.int({ description: "A pending debit's hold expires after this long (1 s to a year); without it, never." }),
    metadata: t.field({ type: "JSON" }),
  }),
  payload: { transaction: Transaction, hold: { type: Hold, nullable: true } },
  errors: [WalletNotFoundError, BalanceNotFoundError, InsufficientFundsError],
  onlyDatabaseEffects: true,
  run: (input, scope) => debitWallet(scope, input),
});
