import type { Order, Payment } from "../../generated/prisma/client.ts";
import type { MutationScope } from "../../idempotency/mutation-field.ts";
import { prepareWallet, takeFunds } from "../wallets/funds.service.ts";
import { checkLines, customerOf, findOrder, type LineInput, placeOrder, priceLines } from "./order.service.ts";
import { findPayment, insertPayment } from "./payment.service.ts";
import { DEFAULT_RESERVE_SECONDS } from "./reservation.service.ts";
import { lockProducts, requestedBySku, requireAvailable } from "./stock.service.ts";

/** A checkout's order and payment ids: UUIDv5s of the workspace, its key and its input, under namespaces of their own. */
export const CHECKOUT_ORDER_ID_NAMESPACE = "3b8f6a2d-7c1e-4f90-b4a6-636865636b6f";
export const CHECKOUT_PAYMENT_ID_NAMESPACE = "d5e9a3c7-8f2b-4c1d-a6e8-636b70617920";

export interface Checkout {
  lines: LineInput[];
  walletId: string;
  customerExternalId?: string | null;
}

/**
 * An order and its payment in one transaction: either the order is PAID and the wallet debited,
 * or nothing changed (OutOfStockError, InsufficientFundsError: no order, no reservation, the
 * stock as it was). The wallet is locked first (its expired holds released), then the products
 * by sku (what is due on them released); both releases are kept whatever the answer.
 */
export async function checkout(scope: MutationScope, input: Checkout): Promise<{ order: Order; payment: Payment }> {
  const { tx, workspaceId } = scope;
  const orderId = scope.idFor(CHECKOUT_ORDER_ID_NAMESPACE);
  const paymentId = scope.idFor(CHECKOUT_PAYMENT_ID_NAMESPACE);
  const lines = checkLines(input.lines);
  const made = await findOrder(tx, workspaceId, orderId);
  if (made) return scope.foundEarlier({ order: made, payment: (await findPayment(tx, workspaceId, paymentId))! });
  await prepareWallet(scope, input.walletId);
  const requested = requestedBySku(lines);
  const locked = await lockProducts(tx, workspaceId, { skus: [...requested.keys()] });
  if (locked.released > 0) await scope.checkpoint();
  const priced = priceLines(lines, locked.bySku);
  requireAvailable(locked.bySku, requested);
  // The debit first: refused (InsufficientFundsError), it has written nothing, and neither has the order.
  const transaction =
    priced.total > 0n
      ? (
          await takeFunds(scope, input.walletId, {
            amount: { asset: priced.asset, value: priced.total },
            balances: "all",
            metadata: { orderId, paymentId },
          })
        ).transaction
      : null;
  // After every checkpoint: a refusal keeps the releases of what expired, never a customer of its own.
  const customerId = await customerOf(tx, workspaceId, input.customerExternalId);
  const order = await placeOrder(tx, workspaceId, {
    id: orderId,
    customerId,
    lines,
    products: locked.bySku,
    priced,
    seconds: DEFAULT_RESERVE_SECONDS,
    paid: true,
  });
  const payment = await insertPayment(tx, workspaceId, {
    id: paymentId,
    order,
    walletId: input.walletId,
    status: "SUCCEEDED",
    transactionId: transaction?.id ?? null,
  });
  return { order, payment };
}
