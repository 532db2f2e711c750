import { LedgerTransactionKind } from "../../generated/prisma/enums.ts";
import { builder } from "../../schema/builder.ts";
import { MoneyType } from "../../schema/money.ts";

const TransactionKind = builder.enumType(LedgerTransactionKind, { name: "TransactionKind" });

export const Transaction = builder.prismaObject("LedgerTransaction", {
  name: "Transaction",
  description: "Postings that happened together on the ledger; every asset sums to zero in it.",
  findUnique: (transaction) => ({ workspaceId_id: { workspaceId: transaction.workspaceId, id: transaction.id } }),
  fields: (t) => ({
    id: t.exposeID("id"),
    kind: t.expose("kind", { type: TransactionKind }),
    holdId: t.exposeID("holdId", { nullable: true }),
    metadata: t.expose("metadata", { type: "JSON", nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    postings: t.relation("postings", { query: { orderBy: { seq: "asc" } } }),
    wallet: t.relation("wallet"),
  }),
});

export const Posting = builder.prismaObject("LedgerPosting", {
  name: "Posting",
  description: "An amount of one asset moved from one account to another: `world`, `wallet:<id>:<balance>` or `hold:<id>`.",
  findUnique: (posting) => ({
    workspaceId_transactionId_seq: { workspaceId: posting.workspaceId, transactionId: posting.transactionId, seq: posting.seq },
  }),
  fields: (t) => ({
    source: t.exposeString("source"),
    destination: t.exposeString("destination"),
    amount: t.field({ type: MoneyType, resolve: (posting) => ({ asset: posting.asset, value: posting.amount }) }),
  }),
});
