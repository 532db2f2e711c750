import type { TransactionClient } from "../../db/transaction.ts";
import { type Payment, Prisma, type Refund } from "../../generated/prisma/client.ts";
import type { MutationScope } from "../../idempotency/mutation-field.ts";
import { InvalidInputError } from "../../schema/errors.ts";
import { type Money, requireMoney } from "../../schema/money.ts";
import { credit } from "../wallets/funds.service.ts";
import { lockWallet, MAIN_BALANCE } from "../wallets/wallet.service.ts";
import { PaymentNotFoundError, RefundExceedsPaymentError } from "./commerce.errors.ts";
import { findPayment } from "./payment.service.ts";

/** Refund ids are UUIDv5s of the workspace, the clientMutationId of createRefund and its input. */
export const REFUND_ID_NAMESPACE = "f1c7b5e3-9a2d-4e6f-8b4c-726566756e64";

const REFUND_COLUMNS = Prisma.raw(
  `f.id, f.workspace_id AS "workspaceId", f.payment_id AS "paymentId", f.order_id AS "orderId", f.asset, f.amount,
   f.transaction_id AS "transactionId", f.created_at AS "createdAt"`,
);

export interface NewRefund {
  paymentId: string;
  amount: Money;
}

/**
 * Credits part of a payment back to its wallet's main balance, through the ledger. The refunds of
 * one payment never add up to more than it, however many run at once: each takes the wallet's
 * lock, then the payment's row, and reads what is left to refund under it; the database refuses
 * a `refunded` above the amount (a CHECK) whatever the code does.
 */
export async function createRefund(scope: MutationScope, input: NewRefund): Promise<Refund> {
  const { tx, workspaceId } = scope;
  const id = scope.idFor(REFUND_ID_NAMESPACE);
  const amount = requireMoney("amount", input.amount);
  const made = await tx.refund.findUnique({ where: { workspaceId_id: { workspaceId, id } } });
  if (made) return scope.foundEarlier(made);
  const found = await findPayment(tx, workspaceId, input.paymentId);
  if (!found) throw new PaymentNotFoundError(input.paymentId);
  if (amount.asset !== found.asset) {
    throw new InvalidInputError(
      "amount.asset",
      `payment ${found.id} was in ${found.asset}: refund it in ${found.asset}, not ${amount.asset}`,
    );
  }
  await lockWallet(tx, workspaceId, found.walletId);
  const payment = await lockPayment(tx, workspaceId, found.id);
  const refundable = payment.status === "SUCCEEDED" ? payment.amount - payment.refunded : 0n;
  if (amount.value > refundable) throw new RefundExceedsPaymentError(payment.id, { asset: payment.asset, value: refundable });
  const transaction = await credit(scope, {
    walletId: payment.walletId,
    amount,
    balance: MAIN_BALANCE,
    metadata: { orderId: payment.orderId, paymentId: payment.id, refundId: id },
  });
  const [refund] = await tx.$queryRaw<Refund[]>`
    WITH refunded AS (
      UPDATE payments SET refunded = refunded + ${amount.value}
      WHERE workspace_id = ${workspaceId}::uuid AND id = ${payment.id}::uuid
    )
    INSERT INTO refunds AS f (id, workspace_id, payment_id, order_id, asset, amount, transaction_id)
    VALUES (${id}::uuid, ${workspaceId}::uuid, ${payment.id}::uuid, ${payment.orderId}::uuid, ${amount.asset}, ${amount.value},
            ${transaction.id}::uuid)
    RETURNING ${REFUND_COLUMNS}`;
  return refund!;
}

async function lockPayment(tx: TransactionClient, workspaceId: string, paymentId: string): Promise<Payment> {
  const [payment] = await tx.$queryRaw<Payment[]>`
    SELECT id, workspace_id AS "workspaceId", order_id AS "orderId", paid_order_id AS "paidOrderId", wallet_id AS "walletId",
           status, reason, asset, amount, refunded, transaction_id AS "transactionId", created_at AS "createdAt"
    FROM payments WHERE workspace_id = ${workspaceId}::uuid AND id = ${paymentId}::uuid
    FOR NO KEY UPDATE`;
  return payment!;
}
