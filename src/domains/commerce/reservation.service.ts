import { type InventoryReservation, Prisma } from "../../generated/prisma/client.ts";
import type { MutationScope } from "../../idempotency/mutation-field.ts";
import { InvalidInputError } from "../../schema/errors.ts";
import { requireQuantity, requireSku } from "./product.service.ts";
import { lockProducts, requireAvailable } from "./stock.service.ts";

/** Reservation ids are UUIDv5s of the workspace, the clientMutationId of createInventoryReservation and its input. */
export const RESERVATION_ID_NAMESPACE = "c4a1e7d2-9b3f-4d6a-8e15-726573657276";
export const DEFAULT_RESERVE_SECONDS = 900;
/** The longest anything may hold stock unpaid: 30 days. */
export const MAX_RESERVE_SECONDS = 30 * 24 * 3600;

/** An `inventory_reservations` row (alias `r`) as the InventoryReservation model has it. */
export const RESERVATION_COLUMNS = Prisma.raw(
  `r.id, r.workspace_id AS "workspaceId", r.product_id AS "productId", r.order_id AS "orderId", r.quantity, r.status,
   r.expires_at AS "expiresAt", r.created_at AS "createdAt", r.resolved_at AS "resolvedAt"`,
);

export function requireReserveSeconds(field: string, seconds: number): number {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_RESERVE_SECONDS) {
    throw new InvalidInputError(field, `${field} must be 1–${MAX_RESERVE_SECONDS} (30 days), got ${seconds}`);
  }
  return seconds;
}

export interface NewReservation {
  sku: string;
  quantity: number;
  expiresInSeconds: number;
}

/**
 * Holds `quantity` of a product out of its stock until it expires (the database's clock), when it
 * goes back, exactly once. Its id comes from the clientMutationId and the input, so a key and
 * input reserve once, even after the stored outcome expired.
 */
export async function createReservation(scope: MutationScope, input: NewReservation): Promise<InventoryReservation> {
  const { tx, workspaceId } = scope;
  const id = scope.idFor(RESERVATION_ID_NAMESPACE);
  const sku = requireSku("sku", input.sku);
  const quantity = requireQuantity("quantity", input.quantity);
  const seconds = requireReserveSeconds("expiresInSeconds", input.expiresInSeconds);
  const made = await tx.inventoryReservation.findUnique({ where: { workspaceId_id: { workspaceId, id } } });
  if (made) return scope.foundEarlier(made);
  const locked = await lockProducts(tx, workspaceId, { skus: [sku] });
  if (locked.released > 0) await scope.checkpoint();
  requireAvailable(locked.bySku, new Map([[sku, quantity]]));
  const product = locked.bySku.get(sku)!;
  const [reservation] = await tx.$queryRaw<InventoryReservation[]>`
    WITH taken AS (
      UPDATE products SET stock = stock - ${quantity}, reserved = reserved + ${quantity}
      WHERE workspace_id = ${workspaceId}::uuid AND id = ${product.id}::uuid
    )
    INSERT INTO inventory_reservations AS r (id, workspace_id, product_id, quantity, expires_at)
    VALUES (${id}::uuid, ${workspaceId}::uuid, ${product.id}::uuid, ${quantity}, now() + ${seconds}::int * interval '1 second')
    RETURNING ${RESERVATION_COLUMNS}`;
  return reservation!;
}
