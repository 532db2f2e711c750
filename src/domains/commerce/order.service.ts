import type { TransactionClient } from "../../db/transaction.ts";
import { type Order, Prisma, type Product } from "../../generated/prisma/client.ts";
import type { MutationScope } from "../../idempotency/mutation-field.ts";
import { InvalidInputError } from "../../schema/errors.ts";
import { MAX_AMOUNT } from "../../schema/money.ts";
import { findOrCreateIdentity } from "../identities/identity.service.ts";
import { MAX_STOCK, requireQuantity, requireSku } from "./product.service.ts";
import { requireReserveSeconds } from "./reservation.service.ts";
import { lockProducts, requestedBySku, requireAvailable } from "./stock.service.ts";

/** Order ids are UUIDv5s of the workspace, the clientMutationId of createOrder and its input. */
export const ORDER_ID_NAMESPACE = "6e2b9c4d-1f7a-4b8e-a3d5-6f7264657273";
export const MAX_LINES = 100;

/** An `orders` row (alias `o`) as the Order model has it, for raw statements. */
export const ORDER_COLUMNS = Prisma.raw(
  `o.id, o.workspace_id AS "workspaceId", o.status, o.asset, o.total, o.customer_id AS "customerId",
   o.reserved_until AS "reservedUntil", o.created_at AS "createdAt", o.paid_at AS "paidAt", o.expired_at AS "expiredAt"`,
);

export interface LineInput {
  sku: string;
  quantity: number;
}

/**
 * An order's lines, checked: each names a sku and asks for more than 0; at most MAX_LINES of them;
 * the lines of one sku, which count together, ask for at most MAX_STOCK in all. Past it no product
 * could ever meet them, and an OutOfStockError naming that total would not fit its Int.
 */
export function checkLines(lines: LineInput[]): LineInput[] {
  if (lines.length === 0) throw new InvalidInputError("lines", "an order needs at least one line");
  if (lines.length > MAX_LINES) throw new InvalidInputError("lines", `an order has at most ${MAX_LINES} lines, got ${lines.length}`);
  const checked = lines.map((line, i) => ({
    sku: requireSku(`lines[${i}].sku`, line.sku),
    quantity: requireQuantity(`lines[${i}].quantity`, line.quantity),
  }));
  const totals = new Map<string, number>();
  for (const [i, line] of checked.entries()) {
    const total = (totals.get(line.sku) ?? 0) + line.quantity;
    if (total > MAX_STOCK) {
      throw new InvalidInputError(
        `lines[${i}].quantity`,
        `the lines of ${line.sku} ask for ${total} in all: at most ${MAX_STOCK}, the most a product holds`,
      );
    }
    totals.set(line.sku, total);
  }
  return checked;
}

/** The customer an order is for: the identity with this externalId, made if there is none. */
export async function customerOf(
  tx: TransactionClient,
  workspaceId: string,
  externalId: string | null | undefined,
): Promise<string | null> {
  return externalId == null ? null : (await findOrCreateIdentity(tx, workspaceId, externalId)).id;
}

export interface PricedLines {
  asset: string;
  total: bigint;
}

/** The order's asset and total at the locked products' prices; all in one asset, at most 2^63−1. */
export function priceLines(lines: LineInput[], products: Map<string, Product>): PricedLines {
  const asset = products.get(lines[0]!.sku)!.asset;
  let total = 0n;
  for (const [i, line] of lines.entries()) {
    const product = products.get(line.sku)!;
    if (product.asset !== asset) {
      throw new InvalidInputError(
        `lines[${i}].sku`,
        `every line of an order is priced in one asset: ${line.sku} is in ${product.asset}, not ${asset}`,
      );
    }
    total += BigInt(line.quantity) * product.price;
  }
  if (total > MAX_AMOUNT) throw new InvalidInputError("lines", `the order's total would pass ${MAX_AMOUNT} (2^63−1)`);
  return { asset, total };
}

export interface NewOrder {
  lines: LineInput[];
  customerExternalId?: string | null;
  expiresInSeconds: number;
}

/**
 * Reserves every line or none, for `expiresInSeconds`: lines of one sku count together, and
 * OutOfStockError lists every sku that cannot be met. Expired reservations on these products
 * are released first, and that release is kept whatever the answer. The prices are the
 * products' at this moment, kept on the lines.
 */
export async function createOrder(scope: MutationScope, input: NewOrder): Promise<Order> {
  const { tx, workspaceId } = scope;
  const id = scope.idFor(ORDER_ID_NAMESPACE);
  const lines = checkLines(input.lines);
  const seconds = requireReserveSeconds("expiresInSeconds", input.expiresInSeconds);
  const made = await findOrder(tx, workspaceId, id);
  if (made) return scope.foundEarlier(made);
  const requested = requestedBySku(lines);
  const locked = await lockProducts(tx, workspaceId, { skus: [...requested.keys()] });
  if (locked.released > 0) await scope.checkpoint();
  const priced = priceLines(lines, locked.bySku);
  requireAvailable(locked.bySku, requested);
  // After the checkpoint: a refusal keeps the release of what expired, never a customer of its own.
  const customerId = await customerOf(tx, workspaceId, input.customerExternalId);
  return placeOrder(tx, workspaceId, { id, customerId, lines, products: locked.bySku, priced, seconds, paid: false });
}

export function findOrder(tx: TransactionClient, workspaceId: string, id: string): Promise<Order | null> {
  return tx.order.findUnique({ where: { workspaceId_id: { workspaceId, id } } });
}

export interface Placement {
  id: string;
  customerId: string | null;
  lines: LineInput[];
  /** Locked by the caller. */
  products: Map<string, Product>;
  priced: PricedLines;
  seconds: number;
  /** Paid at once (checkout): its stock is sold rather than reserved. */
  paid: boolean;
}

/**
 * Writes an order, its lines and one reservation per product, and takes their stock, in one
 * statement. Run under the products' locks, after checking they have the stock.
 */
export async function placeOrder(tx: TransactionClient, workspaceId: string, order: Placement): Promise<Order> {
  const { lines, products } = order;
  const requested = [...requestedBySku(lines)].map(([sku, quantity]) => ({ productId: products.get(sku)!.id, quantity }));
  const status = order.paid ? "PAID" : "RESERVED";
  const [placed] = await tx.$queryRaw<Order[]>`
    WITH o AS (
      INSERT INTO orders (id, workspace_id, status, asset, total, customer_id, reserved_until, paid_at)
      VALUES (${order.id}::uuid, ${workspaceId}::uuid, ${status}::"OrderStatus", ${order.priced.asset}, ${order.priced.total},
              ${order.customerId}::uuid, now() + ${order.seconds}::int * interval '1 second', CASE WHEN ${order.paid}::boolean THEN now() END)
      RETURNING *
    ), l AS (
      INSERT INTO order_lines (workspace_id, order_id, seq, product_id, sku, quantity, asset, unit_price)
      SELECT ${workspaceId}::uuid, ${order.id}::uuid, x.seq, x.product_id, x.sku, x.quantity, ${order.priced.asset}, x.unit_price
      FROM unnest(
        ${lines.map((_, seq) => seq)}::int[], ${lines.map((line) => products.get(line.sku)!.id)}::uuid[],
        ${lines.map((line) => line.sku)}::text[], ${lines.map((line) => line.quantity)}::int[],
        ${lines.map((line) => products.get(line.sku)!.price.toString())}::bigint[]
      ) AS x(seq, product_id, sku, quantity, unit_price)
    ), r AS (
      INSERT INTO inventory_reservations (id, workspace_id, product_id, order_id, quantity, status, expires_at, resolved_at)
      SELECT gen_random_uuid(), ${workspaceId}::uuid, x.product_id, ${order.id}::uuid, x.quantity,
             ${order.paid ? "CONSUMED" : "ACTIVE"}::"ReservationStatus", (SELECT reserved_until FROM o), CASE WHEN ${order.paid}::boolean THEN now() END
      FROM unnest(${requested.map((r) => r.productId)}::uuid[], ${requested.map((r) => r.quantity)}::int[]) AS x(product_id, quantity)
    ), taken AS (
      UPDATE products p
      SET stock = p.stock - x.quantity,
          reserved = p.reserved + CASE WHEN ${order.paid}::boolean THEN 0 ELSE x.quantity END,
          sold = p.sold + CASE WHEN ${order.paid}::boolean THEN x.quantity ELSE 0 END
      FROM unnest(${requested.map((r) => r.productId)}::uuid[], ${requested.map((r) => r.quantity)}::int[]) AS x(product_id, quantity)
      WHERE p.workspace_id = ${workspaceId}::uuid AND p.id = x.product_id
    )
    SELECT ${ORDER_COLUMNS} FROM o`;
  return placed!;
}
