import { Prisma, type PrismaClient } from "../../generated/prisma/client.ts";
import { lockProducts } from "./stock.service.ts";

/** What a read is about to show: one product, one order, or a page of the workspace's orders. */
export type ReadTarget = { sku: string } | { orderId: string } | "orders";

/**
 * For reads: releases what is past its time on the products a read is about to show, so nobody
 * reads an expired order as RESERVED nor misses the stock it gives back. One indexed query when
 * nothing is due.
 */
export async function releaseExpiredStock(prisma: PrismaClient, workspaceId: string, target: ReadTarget): Promise<number> {
  const due =
    target === "orders"
      ? Prisma.sql`r.order_id IS NOT NULL`
      : "sku" in target
        ? Prisma.sql`r.product_id = (SELECT id FROM products WHERE workspace_id = ${workspaceId}::uuid AND sku = ${target.sku})`
        : Prisma.sql`r.order_id = ${target.orderId}::uuid`;
  const rows = await prisma.$queryRaw<{ productId: string }[]>`
    SELECT DISTINCT r.product_id::text AS "productId" FROM inventory_reservations r
    WHERE r.workspace_id = ${workspaceId}::uuid AND r.status = 'ACTIVE' AND r.expires_at <= now() AND ${due}
    LIMIT 100`;
  if (rows.length === 0) return 0;
  return releaseOn(
    prisma,
    workspaceId,
    rows.map((row) => row.productId),
  );
}

/** Releases everything due on these products, in a transaction of its own, under their locks. */
async function releaseOn(prisma: PrismaClient, workspaceId: string, productIds: string[]): Promise<number> {
  return prisma.$transaction(async (tx) => (await lockProducts(tx, workspaceId, { productIds })).released);
}

/**
 * The server's sweeper: every product with reservations (orders' included) past their time, a few
 * products at a time, each in a transaction of its own. Says how many reservations it released.
 */
export async function sweepExpiredStock(prisma: PrismaClient, options: { batchSize?: number } = {}): Promise<number> {
  let released = 0;
  for (;;) {
    const due = await prisma.$queryRaw<{ workspaceId: string; productId: string }[]>`
      SELECT DISTINCT workspace_id::text AS "workspaceId", product_id::text AS "productId" FROM inventory_reservations
      WHERE status = 'ACTIVE' AND expires_at <= now() LIMIT ${options.batchSize ?? 100}`;
    let batch = 0;
    for (const { workspaceId, productId } of due) batch += await releaseOn(prisma, workspaceId, [productId]);
    released += batch;
    if (batch === 0) return released;
  }
}
