import type { TransactionClient } from "../../db/transaction.ts";
import { type Order, type Payment, Prisma } from "../../generated/prisma/client.ts";
import type { MutationScope } from "../../idempotency/mutation-field.ts";
import { prepareWallet, takeFunds } from "../wallets/funds.service.ts";
import { InsufficientFundsError } from "../wallets/wallet.errors.ts";
import { OrderNotFoundError, OrderNotPayableError } from "./commerce.errors.ts";
import { ORDER_COLUMNS } from "./order.service.ts";
import { lockProducts } from "./stock.service.ts";

/** Payment ids are UUIDv5s of the workspace, the clientMutationId of createPaymentAttempt and its input. */
export const PAYMENT_ID_NAMESPACE = "a7d3f1b9-2c4e-4a8b-9d06-7061796d656e";
export const DECLINED_FOR_FUNDS = "INSUFFICIENT_FUNDS";

/** A `payments` row (alias `y`) as the Payment model has it, for raw statements. */
const PAYMENT_COLUMNS = Prisma.raw(
  `y.id, y.workspace_id AS "workspaceId", y.order_id AS "orderId", y.paid_order_id AS "paidOrderId", y.wallet_id AS "walletId",
   y.status, y.reason, y.asset, y.amount, y.refunded, y.transaction_id AS "transactionId", y.created_at AS "createdAt"`,
);

export function findPayment(tx: TransactionClient, workspaceId: string, id: string): Promise<Payment | null> {
  return tx.payment.findUnique({ where: { workspaceId_id: { workspaceId, id } } });
}

export interface PaymentAttempt {
  orderId: string;
  walletId: string;
}

/**
 * Pays a reserved order from a wallet, through the ledger, for the total its lines were priced
 * at. Not enough money is an answer, not an error: a FAILED payment, stored, and the order stays
 * reserved. An order is paid at most once, whatever the keys: every other attempt finds it PAID.
 *
 * The locks, in the one order every transaction takes them: the wallet (releasing its expired
 * holds), the order's products by sku (releasing what is due on them, this order included: an
 * expired order answers ORDER_NOT_PAYABLE and its release is kept), then the order's row.
 */
export async function createPaymentAttempt(scope: MutationScope, input: PaymentAttempt): Promise<Payment> {
  const { tx, workspaceId } = scope;
  const id = scope.idFor(PAYMENT_ID_NAMESPACE);
  const made = await findPayment(tx, workspaceId, id);
  if (made) return scope.foundEarlier(made);
  const [order] = await tx.$queryRaw<{ productIds: string[] }[]>`
    SELECT array(SELECT DISTINCT l.product_id::text FROM order_lines l WHERE l.workspace_id = o.workspace_id AND l.order_id = o.id) AS "productIds"
    FROM orders o WHERE o.workspace_id = ${workspaceId}::uuid AND o.id = ${input.orderId}::uuid`;
  if (!order) throw new OrderNotFoundError(input.orderId);
  await prepareWallet(scope, input.walletId);
  const locked = await lockProducts(tx, workspaceId, { productIds: order.productIds });
  if (locked.released > 0) await scope.checkpoint();
  const payable = await lockPayableOrder(tx, workspaceId, input.orderId);
  return pay(scope, { id, order: payable, walletId: input.walletId });
}

/** The order's row, locked after its products, if it can still be paid. */
async function lockPayableOrder(tx: TransactionClient, workspaceId: string, orderId: string): Promise<Order> {
  const [order] = await tx.$queryRaw<(Order & { due: boolean })[]>`
    SELECT ${ORDER_COLUMNS}, o.reserved_until <= now() AS due FROM orders o
    WHERE o.workspace_id = ${workspaceId}::uuid AND o.id = ${orderId}::uuid
    FOR NO KEY UPDATE OF o`;
  const { due, ...row } = order!;
  // Due and not yet released can only be an order its products' release missed: the sweeper's.
  if (row.status === "RESERVED" && due) throw new OrderNotPayableError(orderId, "EXPIRED");
  if (row.status !== "RESERVED") throw new OrderNotPayableError(orderId, row.status);
  return row;
}

export interface Charge {
  id: string;
  /** Reserved, with its products, wallet and row locked. */
  order: Order;
  walletId: string;
}

/**
 * Debits the wallet for the order's total (from every unexpired balance, as `["*"]`), then marks
 * the order PAID and its reservations' stock sold, in one statement.
 */
async function pay(scope: MutationScope, charge: Charge): Promise<Payment> {
  const { tx, workspaceId } = scope;
  const { order } = charge;
  let transactionId: string | null = null;
  if (order.total > 0n) {
    try {
      const { transaction } = await takeFunds(scope, charge.walletId, {
        amount: { asset: order.asset, value: order.total },
        balances: "all",
        metadata: { orderId: order.id, paymentId: charge.id },
      });
      transactionId = transaction.id;
    } catch (error) {
      // Nothing was written: the funds are checked before anything moves.
      if (!(error instanceof InsufficientFundsError)) throw error;
      return insertPayment(tx, workspaceId, { ...charge, status: "FAILED", transactionId: null });
    }
  }
  await tx.$executeRaw`
    WITH paid AS (
      UPDATE orders SET status = 'PAID', paid_at = now()
      WHERE workspace_id = ${workspaceId}::uuid AND id = ${order.id}::uuid AND status = 'RESERVED'
    ), consumed AS (
      UPDATE inventory_reservations SET status = 'CONSUMED', resolved_at = now()
      WHERE workspace_id = ${workspaceId}::uuid AND order_id = ${order.id}::uuid AND status = 'ACTIVE'
      RETURNING product_id, quantity
    )
    UPDATE products p SET reserved = p.reserved - c.quantity, sold = p.sold + c.quantity
    FROM consumed c WHERE p.workspace_id = ${workspaceId}::uuid AND p.id = c.product_id`;
  return insertPayment(tx, workspaceId, { ...charge, status: "SUCCEEDED", transactionId });
}

/** A payment of the order's total: SUCCEEDED (it holds the order's id in paid_order_id) or FAILED. */
export async function insertPayment(
  tx: TransactionClient,
  workspaceId: string,
  payment: { id: string; order: Order; walletId: string; status: "SUCCEEDED" | "FAILED"; transactionId: string | null },
): Promise<Payment> {
  const succeeded = payment.status === "SUCCEEDED";
  const [inserted] = await tx.$queryRaw<Payment[]>`
    INSERT INTO payments AS y (id, workspace_id, order_id, paid_order_id, wallet_id, status, reason, asset, amount, transaction_id)
    VALUES (${payment.id}::uuid, ${workspaceId}::uuid, ${payment.order.id}::uuid, ${succeeded ? payment.order.id : null}::uuid,
            ${payment.walletId}::uuid, ${payment.status}::"PaymentStatus", ${succeeded ? null : DECLINED_FOR_FUNDS},
            ${payment.order.asset}, ${payment.order.total}, ${payment.transactionId}::uuid)
    RETURNING ${PAYMENT_COLUMNS}`;
  return inserted!;
}
