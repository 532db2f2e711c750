import { randomUUID } from "node:crypto";
import type { ProductFieldsFragment } from "@onceql/client";
import type { TestApp } from "./test-app.ts";
import { USD } from "./wallets.ts";

/** A new product (a fresh sku unless one is given), priced in cents. */
export async function newProduct(
  t: TestApp,
  options: { sku?: string; stock?: number; price?: number; asset?: string; token?: string } = {},
): Promise<ProductFieldsFragment> {
  const sku = options.sku ?? `sku-${randomUUID().slice(0, 8)}`;
  const result = await t.sdk(options.token ? { token: options.token } : {}).CreateProduct({
    input: {
      sku,
      name: `product ${sku}`,
      price: { asset: options.asset ?? USD, value: String(options.price ?? 250) },
      stock: options.stock ?? 10,
    },
  });
  if (result.data.createProduct?.__typename !== "CreateProductPayload")
    throw new Error(`createProduct answered ${JSON.stringify(result.data.createProduct)}`);
  return result.data.createProduct.product;
}

/** What the API shows of a product's quantities. */
export async function quantitiesOf(t: TestApp, sku: string, token?: string) {
  const { data } = await t.sdk(token ? { token } : {}).Product({ sku });
  if (!data.product) throw new Error(`no product ${sku}`);
  return { stock: data.product.stock, reserved: data.product.reserved, sold: data.product.sold };
}

/** A reserved order's id. */
export async function newOrder(t: TestApp, lines: { sku: string; quantity: number }[], options: { token?: string } = {}) {
  const result = await t.sdk(options.token ? { token: options.token } : {}).CreateOrder({ input: { lines } });
  if (result.data.createOrder?.__typename !== "CreateOrderPayload")
    throw new Error(`createOrder answered ${JSON.stringify(result.data.createOrder)}`);
  return result.data.createOrder.order;
}

/** Moves an order's reservations (or a reservation) past their time, as if it had waited. */
export async function expireNow(t: TestApp, where: { orderId: string } | { reservationId: string }): Promise<void> {
  const past = new Date(Date.now() - 1_000);
  if ("orderId" in where) {
    await t.db.prisma.order.updateMany({ where: { id: where.orderId }, data: { reservedUntil: past } });
    await t.db.prisma.inventoryReservation.updateMany({ where: { orderId: where.orderId }, data: { expiresAt: past } });
  } else {
    await t.db.prisma.inventoryReservation.updateMany({ where: { id: where.reservationId }, data: { expiresAt: past } });
  }
}

/**
 * The soak's audit, for one workspace's products: initial stock + adjustments = stock + reserved +
 * sold, reserved is what ACTIVE reservations hold and sold what CONSUMED ones did.
 */
export async function inventoryDrift(t: TestApp): Promise<{ sku: string }[]> {
  return t.db.prisma.$queryRaw<{ sku: string }[]>`
    SELECT p.sku FROM products p
    WHERE p.initial_stock + (SELECT coalesce(sum(delta), 0) FROM inventory_adjustments a WHERE a.workspace_id = p.workspace_id AND a.product_id = p.id)
            <> p.stock + p.reserved + p.sold
       OR p.reserved <> (SELECT coalesce(sum(quantity), 0) FROM inventory_reservations r
                         WHERE r.workspace_id = p.workspace_id AND r.product_id = p.id AND r.status = 'ACTIVE')
       OR p.sold <> (SELECT coalesce(sum(quantity), 0) FROM inventory_reservations r
                     WHERE r.workspace_id = p.workspace_id AND r.product_id = p.id AND r.status = 'CONSUMED')`;
}
