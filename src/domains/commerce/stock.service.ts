import type { TransactionClient } from "../../db/transaction.ts";
import { Prisma, type Product } from "../../generated/prisma/client.ts";
import { OutOfStockError, ProductNotFoundError, type Shortage } from "./commerce.errors.ts";

/** A `products` row (alias `p`) as the Product model has it, for raw statements. */
export const PRODUCT_COLUMNS = Prisma.raw(
  `p.id, p.workspace_id AS "workspaceId", p.sku, p.name, p.asset, p.price, p.stock, p.reserved, p.sold,
   p.initial_stock AS "initialStock", p.created_at AS "createdAt"`,
);

/** Which products to lock: by sku (what a client names), or by id (an order's). */
export type ProductSelection = { skus: string[] } | { productIds: string[] };

export interface LockedProducts {
  /** The products locked, by sku, as they are after the release. */
  bySku: Map<string, Product>;
  /** Reservations (orders' included) whose stock this call gave back. */
  released: number;
}

/**
 * Locks products, in sku order, for a change of their stock, releasing first whatever is due on
 * them: reservations past their time and unpaid orders past theirs go back to stock, exactly once
 * whoever comes first (a mutation, a read, the sweeper), as each does it under these locks and
 * only for rows still ACTIVE / RESERVED.
 *
 * An order due on one of these products holds others too: those are locked with them, in the
 * same sku order, since its release moves them all. Every transaction that moves stock takes its
 * product locks in one statement sorted by sku, and the rows of orders and reservations only
 * after them, so no two can wait on each other in a cycle.
 *
 * An unknown sku is ProductNotFoundError, before anything is released.
 */
export async function lockProducts(tx: TransactionClient, workspaceId: string, selection: ProductSelection): Promise<LockedProducts> {
  const wanted =
    "skus" in selection ? Prisma.sql`w.sku = ANY(${selection.skus}::text[])` : Prisma.sql`w.id = ANY(${selection.productIds}::uuid[])`;
  const rows = await tx.$queryRaw<(Product & { dueReservations: string[] | null; dueOrders: string[] | null })[]>`
    WITH due AS (
      SELECT r.id, r.order_id FROM inventory_reservations r
      JOIN products w ON w.workspace_id = r.workspace_id AND w.id = r.product_id
      WHERE w.workspace_id = ${workspaceId}::uuid AND ${wanted} AND r.status = 'ACTIVE' AND r.expires_at <= now()
    ), involved AS (
      SELECT w.id FROM products w WHERE w.workspace_id = ${workspaceId}::uuid AND ${wanted}
      UNION
      SELECT r.product_id FROM inventory_reservations r
      WHERE r.workspace_id = ${workspaceId}::uuid AND r.order_id IN (SELECT order_id FROM due)
    ), dues AS (
      SELECT array_agg(id::text) FILTER (WHERE order_id IS NULL) AS reservations,
             array_agg(DISTINCT order_id::text) FILTER (WHERE order_id IS NOT NULL) AS orders
      FROM due
    )
    SELECT ${PRODUCT_COLUMNS}, d.reservations AS "dueReservations", d.orders AS "dueOrders"
    FROM products p CROSS JOIN dues d
    WHERE p.workspace_id = ${workspaceId}::uuid AND p.id IN (SELECT id FROM involved)
    ORDER BY p.sku
    FOR NO KEY UPDATE OF p`;
  const bySku = new Map<string, Product>();
  for (const { dueReservations: _r, dueOrders: _o, ...product } of rows) bySku.set(product.sku, product);
  if ("skus" in selection) {
    const missing = selection.skus.find((sku) => !bySku.has(sku));
    if (missing !== undefined) throw new ProductNotFoundError(missing);
  }
  const dueReservations = rows[0]?.dueReservations ?? [];
  const dueOrders = rows[0]?.dueOrders ?? [];
  if (dueReservations.length === 0 && dueOrders.length === 0) return { bySku, released: 0 };
  const released = await releaseDue(tx, workspaceId, dueReservations, dueOrders);
  for (const product of released.products) bySku.set(product.sku, product);
  return { bySku, released: released.reservations };
}

/**
 * Gives back the stock of these reservations and orders if they are still ACTIVE / RESERVED and
 * past their time, in one statement. Run under the locks of every product they hold.
 */
async function releaseDue(
  tx: TransactionClient,
  workspaceId: string,
  reservationIds: string[],
  orderIds: string[],
): Promise<{ reservations: number; products: Product[] }> {
  const rows = await tx.$queryRaw<(Product & { releasedCount: number })[]>`
    WITH expired_orders AS (
      UPDATE orders SET status = 'EXPIRED', expired_at = now()
      WHERE workspace_id = ${workspaceId}::uuid AND id = ANY(${orderIds}::uuid[]) AND status = 'RESERVED' AND reserved_until <= now()
      RETURNING id
    ), released AS (
      UPDATE inventory_reservations r SET status = 'EXPIRED', resolved_at = now()
      WHERE r.workspace_id = ${workspaceId}::uuid AND r.status = 'ACTIVE'
        AND ((r.order_id IS NULL AND r.id = ANY(${reservationIds}::uuid[]) AND r.expires_at <= now())
             OR r.order_id IN (SELECT id FROM expired_orders))
      RETURNING r.product_id, r.quantity
    ), back AS (
      SELECT product_id, sum(quantity)::int AS quantity FROM released GROUP BY product_id
    )
    UPDATE products p SET stock = p.stock + back.quantity, reserved = p.reserved - back.quantity
    FROM back WHERE p.workspace_id = ${workspaceId}::uuid AND p.id = back.product_id
    RETURNING ${PRODUCT_COLUMNS}, (SELECT count(*)::int FROM released) AS "releasedCount"`;
  const products = rows.map(({ releasedCount: _count, ...product }) => product);
  return { reservations: rows[0]?.releasedCount ?? 0, products };
}

/** What each sku asks for in all, in the order the skus first appear. */
export function requestedBySku(lines: { sku: string; quantity: number }[]): Map<string, number> {
  const requested = new Map<string, number>();
  for (const line of lines) requested.set(line.sku, (requested.get(line.sku) ?? 0) + line.quantity);
  return requested;
}

/** Every sku whose stock cannot meet what is asked of it, or nothing: OutOfStockError lists them all. */
export function requireAvailable(products: Map<string, Product>, requested: Map<string, number>): void {
  const shortages: Shortage[] = [];
  for (const [sku, quantity] of requested) {
    const available = products.get(sku)!.stock;
    if (quantity > available) shortages.push({ sku, requested: quantity, available });
  }
  if (shortages.length > 0) throw new OutOfStockError(shortages);
}
