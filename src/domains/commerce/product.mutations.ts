import { defineIdempotentMutation } from "../../idempotency/mutation-field.ts";
import { MoneyInput } from "../../schema/money.ts";
import { OutOfStockError, ProductAlreadyExistsError, ProductNotFoundError } from "./commerce.errors.ts";
import { adjustInventory, createProduct } from "./product.service.ts";
import { Product } from "./product.type.ts";

defineIdempotentMutation("createProduct", {
  description: "Creates a product with a sku new in this workspace. Its id comes from the clientMutationId: a retry never makes another.",
  input: (t) => ({
    sku: t.string({ required: true, description: "1–64 letters, digits or . _ : / -" }),
    name: t.string({ required: true }),
    price: t.field({ type: MoneyInput, required: true, description: "At least 0." }),
    stock: t.int({ required: true, description: "What it starts with, free to reserve." }),
  }),
  payload: { product: Product },
  errors: [ProductAlreadyExistsError],
  onlyDatabaseEffects: true,
  run: async (input, scope) => ({ product: await createProduct(scope, input) }),
});

defineIdempotentMutation("adjustInventory", {
  description:
    "Adds delta (either sign) to a product's stock. Stock on hand never goes below what is reserved: removing more than is free is OUT_OF_STOCK.",
  input: (t) => ({
    sku: t.string({ required: true }),
    delta: t.int({ required: true }),
  }),
  payload: { product: Product },
  errors: [ProductNotFoundError, OutOfStockError],
  onlyDatabaseEffects: true,
  run: async (input, scope) => ({ product: await adjustInventory(scope, input) }),
});
