import { builder } from "../../schema/builder.ts";
import { MoneyType } from "../../schema/money.ts";
import { userErrorType } from "../../schema/user-error.type.ts";
import { BalanceAlreadyExistsError, BalanceNotFoundError, InsufficientFundsError, WalletNotFoundError } from "./wallet.errors.ts";

export const Wallet = builder.prismaObject("Wallet", {
  description: "A wallet: named balances on a double-entry ledger, pending debits (holds) and its transactions.",
  findUnique: (wallet) => ({ workspaceId_id: { workspaceId: wallet.workspaceId, id: wallet.id } }),
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name"),
    metadata: t.expose("metadata", { type: "JSON", nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    balances: t.relation("balances", { query: { orderBy: [{ createdAt: "asc" }, { name: "asc" }] } }),
    holds: t.relatedConnection("holds", {
      description: "Its holds, newest first.",
      cursor: "workspaceId_id",
      query: { orderBy: [{ createdAt: "desc" }, { id: "desc" }] },
    }),
    transactions: t.relatedConnection("transactions", {
      description: "The ledger transactions that moved its accounts, newest first.",
      cursor: "workspaceId_id",
      query: { orderBy: [{ createdAt: "desc" }, { id: "desc" }] },
    }),
  }),
});

export const Balance = builder.prismaObject("WalletBalance", {
  name: "Balance",
  description: "A named part of a wallet. Debits take from balances in order; past expiresAt a balance is no longer spent.",
  findUnique: (balance) => ({ workspaceId_id: { workspaceId: balance.workspaceId, id: balance.id } }),
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name"),
    priority: t.exposeInt("priority", { description: "Lower is spent first, after every balance that expires; main is spent last." }),
    expiresAt: t.expose("expiresAt", { type: "DateTime", nullable: true }),
    available: t.field({
      type: [MoneyType],
      description: "What it holds, per asset (nothing of it is spent once it has expired).",
      select: { accounts: { select: { asset: true, balance: true }, orderBy: { asset: "asc" } } },
      resolve: (balance) => balance.accounts.map((account) => ({ asset: account.asset, value: account.balance })),
    }),
  }),
});

userErrorType(WalletNotFoundError, { fields: (t) => ({ walletId: t.exposeID("walletId") }) });
userErrorType(BalanceNotFoundError, { fields: (t) => ({ walletId: t.exposeID("walletId"), name: t.exposeString("name") }) });
userErrorType(BalanceAlreadyExistsError, { fields: (t) => ({ walletId: t.exposeID("walletId"), name: t.exposeString("name") }) });
userErrorType(InsufficientFundsError, {
  fields: (t) => ({
    requested: t.field({ type: MoneyType, resolve: (error) => error.requested }),
    available: t.field({
      type: MoneyType,
      description: "All the balances asked for hold, unexpired.",
      resolve: (error) => error.available,
    }),
  }),
});
