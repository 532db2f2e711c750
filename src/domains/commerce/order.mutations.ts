import { defineIdempotentMutation } from "../../idempotency/mutation-field.ts";
import { rowIdField } from "../../schema/row-ids.ts";
import { InsufficientFundsError, WalletNotFoundError } from "../wallets/wallet.errors.ts";
import { checkout } from "./checkout.service.ts";
import { OutOfStockError, ProductNotFoundError } from "./commerce.errors.ts";
import { createOrder } from "./order.service.ts";
import { Order, OrderLineInput } from "./order.type.ts";
import { Payment } from "./payment.type.ts";
import { DEFAULT_RESERVE_SECONDS } from "./reservation.service.ts";

defineIdempotentMutation("createOrder", {
  description:
    "Reserves every line or none (lines of one sku count together) until reservedUntil, at today's prices. OUT_OF_STOCK lists every sku short.",
  input: (t) => ({
    lines: t.field({ type: [OrderLineInput], required: true, description: "1 to 100 lines." }),
    customerExternalId: t.string({ description: "The customer's identity, found or created." }),
    expiresInSeconds: t.int({ required: true, defaultValue: DEFAULT_RESERVE_SECONDS, description: "1 s to 30 days." }),
  }),
  payload: { order: Order },
  errors: [ProductNotFoundError, OutOfStockError],
  onlyDatabaseEffects: true,
  run: async (input, scope) => ({ order: await createOrder(scope, input) }),
});

defineIdempotentMutation("checkout", {
  description:
    "An order and its payment in one transaction: the order is PAID and the wallet debited, or nothing changed (OUT_OF_STOCK, INSUFFICIENT_FUNDS).",
  input: (t) => ({
    walletId: rowIdField(t, WalletNotFoundError),
    lines: t.field({ type: [OrderLineInput], required: true, description: "1 to 100 lines." }),
    customerExternalId: t.string({ description: "The customer's identity, found or created." }),
  }),
  payload: { order: Order, payment: Payment },
  errors: [WalletNotFoundError, ProductNotFoundError, OutOfStockError, InsufficientFundsError],
  onlyDatabaseEffects: true,
  run: (input, scope) => checkout(scope, input),
});
