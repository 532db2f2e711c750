import type { OrderStatus } from "../../generated/prisma/enums.ts";
import { userError } from "../../schema/errors.ts";
import type { Money } from "../../schema/money.ts";

export class ProductAlreadyExistsError extends userError("PRODUCT_EXISTS") {
  constructor(readonly sku: string) {
    super(`A product with sku ${JSON.stringify(sku)} already exists in this workspace.`);
  }
}

export class ProductNotFoundError extends userError("PRODUCT_NOT_FOUND") {
  constructor(readonly sku: string) {
    super(`No product with sku ${JSON.stringify(sku)} in this workspace.`);
  }
}

/** One sku that cannot be met: all its lines together ask for `requested`, `available` is its stock. */
export interface Shortage {
  sku: string;
  requested: number;
  available: number;
}

export class OutOfStockError extends userError("OUT_OF_STOCK") {
  constructor(readonly shortages: Shortage[]) {
    super(
      `Not enough stock: ${shortages.map((s) => `${s.sku} (${s.requested} requested, ${s.available} available)`).join(", ")}. Nothing was reserved.`,
    );
  }
}

export class OrderNotFoundError extends userError("ORDER_NOT_FOUND") {
  constructor(readonly orderId: string) {
    super(`No order ${JSON.stringify(orderId)} in this workspace.`);
  }
}

export class OrderNotPayableError extends userError("ORDER_NOT_PAYABLE") {
  constructor(
    readonly orderId: string,
    readonly status: OrderStatus,
  ) {
    super(`Order ${orderId} is ${status.toLowerCase()}: only a reserved order can be paid.`);
  }
}

export class PaymentNotFoundError extends userError("PAYMENT_NOT_FOUND") {
  constructor(readonly paymentId: string) {
    super(`No payment ${JSON.stringify(paymentId)} in this workspace.`);
  }
}

export class RefundExceedsPaymentError extends userError("REFUND_EXCEEDS_PAYMENT") {
  constructor(
    readonly paymentId: string,
    readonly refundable: Money,
  ) {
    super(`Payment ${paymentId} has ${refundable.value} ${refundable.asset} left to refund: refund at most that.`);
  }
}
