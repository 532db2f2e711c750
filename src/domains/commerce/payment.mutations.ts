import { defineIdempotentMutation } from "../../idempotency/mutation-field.ts";
import { MoneyInput } from "../../schema/money.ts";
import { rowIdField } from "../../schema/row-ids.ts";
import { WalletNotFoundError } from "../wallets/wallet.errors.ts";
import { OrderNotFoundError, OrderNotPayableError, PaymentNotFoundError, RefundExceedsPaymentError } from "./commerce.errors.ts";
import { createPaymentAttempt } from "./payment.service.ts";
import { Payment, Refund } from "./payment.type.ts";
import { createRefund } from "./refund.service.ts";

defineIdempotentMutation("createPaymentAttempt", {
  description:
    "Pays a reserved order from a wallet, through the ledger. Not enough money is a FAILED payment (reason INSUFFICIENT_FUNDS); " +
    "an order is paid at most once, whatever the keys.",
  input: (t) => ({
    orderId: rowIdField(t, OrderNotFoundError),
    walletId: rowIdField(t, WalletNotFoundError),
  }),
  payload: { payment: Payment },
  errors: [OrderNotFoundError, WalletNotFoundError, OrderNotPayableError],
  onlyDatabaseEffects: true,
  run: async (input, scope) => ({ payment: await createPaymentAttempt(scope, input) }),
});

defineIdempotentMutation("createRefund", {
  description: "Credits part of a payment back to its wallet's main balance; the refunds of a payment never add up to more than it.",
  input: (t) => ({
    paymentId: rowIdField(t, PaymentNotFoundError),
    amount: t.field({ type: MoneyInput, required: true, description: "In the payment's asset." }),
  }),
  payload: { refund: Refund },
  errors: [PaymentNotFoundError, RefundExceedsPaymentError],
  onlyDatabaseEffects: true,
  run: async (input, scope) => ({ refund: await createRefund(scope, input) }),
});
