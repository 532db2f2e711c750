import { defineIdempotentMutation } from "../../idempotency/mutation-field.ts";
import { OutOfStockError, ProductNotFoundError } from "./commerce.errors.ts";
import { createReservation, DEFAULT_RESERVE_SECONDS } from "./reservation.service.ts";
import { InventoryReservation } from "./reservation.type.ts";

defineIdempotentMutation("createInventoryReservation", {
  description: "Holds quantity of a product out of its stock for expiresInSeconds; then it goes back to stock, exactly once.",
  input: (t) => ({
    sku: t.string({ required: true }),
    quantity: t.int({ required: true }),
    expiresInSeconds: t.int({ required: true, defaultValue: DEFAULT_RESERVE_SECONDS, description: "1 s to 30 days." }),
  }),
  payload: { reservation: InventoryReservation },
  errors: [ProductNotFoundError, OutOfStockError],
  onlyDatabaseEffects: true,
  run: async (input, scope) => ({ reservation: await createReservation(scope, input) }),
});
