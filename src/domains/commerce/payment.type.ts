import { PaymentStatus } from "../../generated/prisma/enums.ts";
import { builder } from "../../schema/builder.ts";
import { MoneyType } from "../../schema/money.ts";
import { userErrorType } from "../../schema/user-error.type.ts";
import { PaymentNotFoundError, RefundExceedsPaymentError } from "./commerce.errors.ts";

const PaymentStatusEnum = builder.enumType(PaymentStatus, {
  name: "PaymentStatus",
  description: "SUCCEEDED debited the wallet and paid the order; FAILED moved nothing (see reason).",
});

export const Payment = builder.prismaObject("Payment", {
  description: "An attempt to pay an order from a wallet, through the ledger.",
  findUnique: (payment) => ({ workspaceId_id: { workspaceId: payment.workspaceId, id: payment.id } }),
  fields: (t) => ({
    id: t.exposeID("id"),
    status: t.expose("status", { type: PaymentStatusEnum }),
    reason: t.exposeString("reason", { nullable: true, description: "Why it FAILED: INSUFFICIENT_FUNDS." }),
    amount: t.field({ type: MoneyType, description: "The order's total.", resolve: (p) => ({ asset: p.asset, value: p.amount }) }),
    refunded: t.field({
      type: MoneyType,
      description: "What its refunds add up to; never above amount.",
      resolve: (p) => ({ asset: p.asset, value: p.refunded }),
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    order: t.relation("order"),
    wallet: t.relation("wallet"),
    transaction: t.relation("transaction", { nullable: true, description: "The ledger debit; none when it failed." }),
    refunds: t.relation("refunds", { query: { orderBy: [{ createdAt: "asc" }, { id: "asc" }] } }),
  }),
});

export const Refund = builder.prismaObject("Refund", {
  description: "Money of a payment credited back to its wallet's main balance, through the ledger.",
  findUnique: (refund) => ({ workspaceId_id: { workspaceId: refund.workspaceId, id: refund.id } }),
  fields: (t) => ({
    id: t.exposeID("id"),
    amount: t.field({ type: MoneyType, resolve: (refund) => ({ asset: refund.asset, value: refund.amount }) }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    payment: t.relation("payment"),
    transaction: t.relation("transaction"),
  }),
});

userErrorType(PaymentNotFoundError, { fields: (t) => ({ paymentId: t.exposeID("paymentId") }) });
userErrorType(RefundExceedsPaymentError, {
  fields: (t) => ({
    paymentId: t.exposeID("paymentId"),
    refundable: t.field({ type: MoneyType, description: "What is left to refund.", resolve: (error) => error.refundable }),
  }),
});
