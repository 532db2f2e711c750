import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MAX_STOCK } from "../../../src/domains/commerce/product.service.ts";
import { inventoryDrift, newProduct, quantitiesOf } from "../../helpers/commerce.ts";
import { startTestApp, type TestApp } from "../../helpers/test-app.ts";
import { as } from "../../helpers/typed.ts";
import { newWallet, USD } from "../../helpers/wallets.ts";

/**
 * Quantities past what a product can ever hold (MAX_STOCK, an int column) are INVALID_INPUT before
 * anything runs: an answer that named them (OutOfStockError's `requested`, a GraphQL Int) could not
 * be shown, and, stored, would fail every replay of its key for the whole TTL.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterEach(async () => expect(await inventoryDrift(t)).toEqual([]));
afterAll(() => t.close());

const INT_MIN = -(2 ** 31);

/** Sends the operation twice with one key: both answers must be this INVALID_INPUT, the second a replay. */
async function refusedTwice<R>(send: () => Promise<{ data: R; replayed: boolean }>, pick: (data: R) => unknown, field: string) {
  const first = await send();
  expect(as(pick(first.data) as { __typename?: "InvalidInputError" }, "InvalidInputError")).toMatchObject({
    code: "INVALID_INPUT",
    field,
  });
  const replay = await send();
  expect(replay.replayed).toBe(true);
  expect(replay.data).toEqual(first.data);
  return first.data;
}

describe("lines of one sku count together, up to MAX_STOCK", () => {
  it("createOrder: two lines of 2^31−1 of one sku are INVALID_INPUT on the line that passes it, stored and replayed", async () => {
    const { sku } = await newProduct(t, { stock: 10 });
    const input = {
      clientMutationId: `overflow-order-${sku}`,
      lines: [
        { sku, quantity: MAX_STOCK },
        { sku, quantity: MAX_STOCK },
      ],
    };
    const data = await refusedTwice(
      () => t.sdk().CreateOrder({ input }),
      (d) => d.createOrder,
      "lines[1].quantity",
    );
    expect((data.createOrder as { message: string }).message).toContain(String(MAX_STOCK));
    expect(await quantitiesOf(t, sku)).toEqual({ stock: 10, reserved: 0, sold: 0 });
    expect(await t.db.prisma.order.count()).toBe(0);
  });

  it("createOrder: lines of one sku that add up to exactly MAX_STOCK are an ordinary OUT_OF_STOCK", async () => {
    const { sku } = await newProduct(t, { stock: 10 });
    const lines = [
      { sku, quantity: MAX_STOCK - 1 },
      { sku, quantity: 1 },
    ];
    const result = await t.sdk().CreateOrder({ input: { lines } });
    expect(as(result.data.createOrder, "OutOfStockError").shortages).toEqual([{ sku, requested: MAX_STOCK, available: 10 }]);
  });

  it("checkout: the same, before the wallet is even looked at", async () => {
    const { sku } = await newProduct(t, { stock: 10 });
    const walletId = await newWallet(t);
    const input = {
      clientMutationId: `overflow-checkout-${sku}`,
      walletId,
      lines: [
        { sku, quantity: MAX_STOCK },
        { sku, quantity: 5 },
      ],
    };
    await refusedTwice(
      () => t.sdk().Checkout({ input }),
      (d) => d.checkout,
      "lines[1].quantity",
    );
    expect(await quantitiesOf(t, sku)).toEqual({ stock: 10, reserved: 0, sold: 0 });
  });
});

describe("adjustInventory", () => {
  it("delta −2^31 (more than any stock) is INVALID_INPUT, stored and replayed", async () => {
    const { sku } = await newProduct(t, { stock: 10 });
    const input = { clientMutationId: `overflow-adjust-${sku}`, sku, delta: INT_MIN };
    await refusedTwice(
      () => t.sdk().AdjustInventory({ input }),
      (d) => d.adjustInventory,
      "delta",
    );
    expect(await quantitiesOf(t, sku)).toEqual({ stock: 10, reserved: 0, sold: 0 });
  });

  it("delta −(2^31−1) is within range: OUT_OF_STOCK naming what it asked for", async () => {
    const { sku } = await newProduct(t, { stock: 10 });
    const result = await t.sdk().AdjustInventory({ input: { sku, delta: -MAX_STOCK } });
    expect(as(result.data.adjustInventory, "OutOfStockError").shortages).toEqual([{ sku, requested: MAX_STOCK, available: 10 }]);
  });
});

describe("one quantity at the edge of Int", () => {
  it("createInventoryReservation of 2^31−1: OUT_OF_STOCK, shown and replayed", async () => {
    const { sku } = await newProduct(t, { stock: 10 });
    const input = { clientMutationId: `edge-reserve-${sku}`, sku, quantity: MAX_STOCK };
    const first = await t.sdk().CreateInventoryReservation({ input });
    expect(as(first.data.createInventoryReservation, "OutOfStockError").shortages).toEqual([{ sku, requested: MAX_STOCK, available: 10 }]);
    const replay = await t.sdk().CreateInventoryReservation({ input });
    expect(replay.replayed).toBe(true);
    expect(replay.data).toEqual(first.data);
  });

  it("createProduct with a stock of 2^31−1 is a product; adding to it is INVALID_INPUT", async () => {
    const product = await newProduct(t, { stock: MAX_STOCK });
    expect(product.stock).toBe(MAX_STOCK);
    const result = await t.sdk().AdjustInventory({ input: { sku: product.sku, delta: 1 } });
    expect(as(result.data.adjustInventory, "InvalidInputError").field).toBe("delta");
  });

  it("createProduct with a stock of −2^31 is INVALID_INPUT", async () => {
    const result = await t.sdk().CreateProduct({
      input: { sku: "edge-negative", name: "edge", price: { asset: USD, value: "1" }, stock: INT_MIN },
    });
    expect(as(result.data.createProduct, "InvalidInputError").field).toBe("stock");
  });
});
