import type { Product } from "../../generated/prisma/client.ts";
import type { MutationScope } from "../../idempotency/mutation-field.ts";
import { InvalidInputError } from "../../schema/errors.ts";
import { MAX_AMOUNT, type Money, requireAsset } from "../../schema/money.ts";
import { requireLength } from "../../schema/validation.ts";
import { OutOfStockError, ProductAlreadyExistsError } from "./commerce.errors.ts";
import { lockProducts, PRODUCT_COLUMNS } from "./stock.service.ts";

/** Product ids are UUIDv5s of the workspace, the clientMutationId of createProduct and its input. */
export const PRODUCT_ID_NAMESPACE = "2f0e8a4c-6b1d-4c3e-9f57-70726f647563";
/** Adjustment ids are UUIDv5s of the workspace, the clientMutationId of adjustInventory and its input. */
export const ADJUSTMENT_ID_NAMESPACE = "8c6d2b1e-4a3f-4e9d-b7a2-61646a757374";

/** What a product's quantities may add up to (an int column, and a CHECK on their sum). */
export const MAX_STOCK = 2_147_483_647;
/** Letters, digits and `. _ : / -`, starting with a letter or digit; the database CHECKs it too. */
const SKU = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;

export function requireSku(field: string, sku: string): string {
  if (!SKU.test(sku)) {
    throw new InvalidInputError(field, `${field} must be 1–64 letters, digits or . _ : / -, got ${JSON.stringify(sku.slice(0, 80))}`);
  }
  return sku;
}

export function isSku(sku: string): boolean {
  return SKU.test(sku);
}

/** A quantity of a product: above 0, and at most MAX_STOCK (no product ever holds more). */
export function requireQuantity(field: string, quantity: number): number {
  if (!Number.isInteger(quantity) || quantity <= 0) throw new InvalidInputError(field, `${field} must be above 0, got ${quantity}`);
  if (quantity > MAX_STOCK) throw new InvalidInputError(field, `${field} must be at most ${MAX_STOCK}, got ${quantity}`);
  return quantity;
}

function requirePrice(price: Money): Money {
  const asset = requireAsset("price.asset", price.asset);
  if (price.value < 0n) throw new InvalidInputError("price.value", `price.value must be at least 0, got ${price.value}`);
  if (price.value > MAX_AMOUNT) throw new InvalidInputError("price.value", `price.value must be at most ${MAX_AMOUNT} (2^63−1)`);
  return { asset, value: price.value };
}

export interface NewProduct {
  sku: string;
  name: string;
  price: Money;
  stock: number;
}

/**
 * A new product with a sku that is new in the workspace. Its id comes from the clientMutationId
 * and the input: a retry after the stored outcome expired finds the product its first run made,
 * and makes no other.
 */
export async function createProduct({ tx, workspaceId, idFor, foundEarlier }: MutationScope, input: NewProduct): Promise<Product> {
  const id = idFor(PRODUCT_ID_NAMESPACE);
  const sku = requireSku("sku", input.sku);
  const name = requireLength("name", input.name, 1, 200);
  const price = requirePrice(input.price);
  if (!Number.isInteger(input.stock) || input.stock < 0 || input.stock > MAX_STOCK)
    throw new InvalidInputError("stock", `stock must be 0–${MAX_STOCK}, got ${input.stock}`);
  const [created] = await tx.product.createManyAndReturn({
    data: [{ id, workspaceId, sku, name, asset: price.asset, price: price.value, stock: input.stock, initialStock: input.stock }],
    skipDuplicates: true,
  });
  if (created) return created;
  const made = await tx.product.findUnique({ where: { workspaceId_id: { workspaceId, id } } });
  if (!made) throw new ProductAlreadyExistsError(sku);
  return foundEarlier(made);
}

export interface Adjustment {
  sku: string;
  delta: number;
}

/**
 * Adds `delta` (either sign) to what can be reserved, and records it, so that initial stock plus
 * adjustments is always what the product's quantities add up to. Removing more than is
 * unreserved is OutOfStockError: stock on hand never goes below what is reserved. Expired
 * reservations are released first, and that release is kept whatever the answer.
 */
export async function adjustInventory(scope: MutationScope, input: Adjustment): Promise<Product> {
  const { tx, workspaceId } = scope;
  const id = scope.idFor(ADJUSTMENT_ID_NAMESPACE);
  const sku = requireSku("sku", input.sku);
  // Past ±MAX_STOCK no product could take it, and an OutOfStockError naming −delta would not fit its Int.
  if (!Number.isInteger(input.delta) || input.delta === 0 || Math.abs(input.delta) > MAX_STOCK)
    throw new InvalidInputError(
      "delta",
      `delta must be a whole number other than 0, from −${MAX_STOCK} to ${MAX_STOCK}, got ${input.delta}`,
    );
  const done = await tx.inventoryAdjustment.findUnique({ where: { workspaceId_id: { workspaceId, id } }, include: { product: true } });
  // Its key and input adjusted this product before, and the stored outcome has expired since.
  if (done) return scope.foundEarlier(done.product);
  const locked = await lockProducts(tx, workspaceId, { skus: [sku] });
  if (locked.released > 0) await scope.checkpoint();
  const product = locked.bySku.get(sku)!;
  if (product.stock + input.delta < 0) {
    throw new OutOfStockError([{ sku, requested: -input.delta, available: product.stock }]);
  }
  if (product.stock + product.reserved + product.sold + input.delta > MAX_STOCK) {
    throw new InvalidInputError("delta", `delta would take the product's stock past ${MAX_STOCK}`);
  }
  const [adjusted] = await tx.$queryRaw<Product[]>`
    WITH adjustment AS (
      INSERT INTO inventory_adjustments (id, workspace_id, product_id, delta)
      VALUES (${id}::uuid, ${workspaceId}::uuid, ${product.id}::uuid, ${input.delta})
    )
    UPDATE products p SET stock = p.stock + ${input.delta}
    WHERE p.workspace_id = ${workspaceId}::uuid AND p.id = ${product.id}::uuid
    RETURNING ${PRODUCT_COLUMNS}`;
  return adjusted!;
}
