import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { expireNow, inventoryDrift, newOrder, newProduct, quantitiesOf } from "../../helpers/commerce.ts";
import { startTestApp, type TestApp } from "../../helpers/test-app.ts";
import { as } from "../../helpers/typed.ts";
import { USD } from "../../helpers/wallets.ts";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterEach(async () => expect(await inventoryDrift(t)).toEqual([]));
afterAll(() => t.close());

describe("createProduct", () => {
  it("creates a product with an id from its key: a replay is identical, another key with the same sku is PRODUCT_EXISTS", async () => {
    const input = { clientMutationId: "cp-1", sku: "tee-m", name: "T-shirt M", price: { asset: USD, value: "1999" }, stock: 5 };
    const first = await t.sdk().CreateProduct({ input });
    const product = as(first.data.createProduct, "CreateProductPayload").product;
    expect(product).toMatchObject({
      sku: "tee-m",
      name: "T-shirt M",
      price: { asset: USD, value: "1999" },
      stock: 5,
      reserved: 0,
      sold: 0,
    });
    const replay = await t.sdk().CreateProduct({ input });
    expect(replay.replayed).toBe(true);
    expect(replay.data).toEqual(first.data);
    const again = await t.sdk().CreateProduct({ input: { ...input, clientMutationId: "cp-2" } });
    expect(as(again.data.createProduct, "ProductAlreadyExistsError")).toMatchObject({ code: "PRODUCT_EXISTS", sku: "tee-m" });
    expect((await t.sdk().Product({ sku: "tee-m" })).data.product).toEqual(product);
    expect(await t.db.prisma.product.count({ where: { sku: "tee-m" } })).toBe(1);
  });

  it("makes no second product for its key and input even after the stored outcome has expired", async () => {
    const input = { clientMutationId: "cp-expired", sku: "mug", name: "Mug", price: { asset: USD, value: "800" }, stock: 3 };
    const first = as((await t.sdk().CreateProduct({ input })).data.createProduct, "CreateProductPayload");
    await t.db.prisma.idempotencyRecord.deleteMany({ where: { clientMutationId: "cp-expired" } });
    const other = await startTestApp({ db: t.db });
    try {
      const again = await other.sdk({ token: t.token }).CreateProduct({ input });
      // Found by its id, made by the first run: nothing ran again.
      expect(again.replayed).toBe(true);
      expect(as(again.data.createProduct, "CreateProductPayload").product.id).toBe(first.product.id);
    } finally {
      await other.close();
    }
  });

  it.each([
    ["an empty sku", { sku: "" }, "sku"],
    ["a sku with spaces", { sku: "t shirt" }, "sku"],
    ["a sku of 65 characters", { sku: "x".repeat(65) }, "sku"],
    ["an empty name", { name: "" }, "name"],
    ["a negative price", { price: { asset: USD, value: "-1" } }, "price.value"],
    ["a price over 2^63−1", { price: { asset: USD, value: (2n ** 63n).toString() } }, "price.value"],
    ["a lower-case asset", { price: { asset: "usd", value: "1" } }, "price.asset"],
    ["a negative stock", { stock: -1 }, "stock"],
  ])("refuses %s: INVALID_INPUT naming the field, nothing created", async (_label, change, field) => {
    const before = await t.db.prisma.product.count();
    const input = { sku: `bad-${randomUUID().slice(0, 8)}`, name: "bad", price: { asset: USD, value: "1" }, stock: 1, ...change };
    const result = await t.sdk().CreateProduct({ input });
    expect(as(result.data.createProduct, "InvalidInputError").field).toBe(field);
    expect(await t.db.prisma.product.count()).toBe(before);
  });
});

describe("adjustInventory", () => {
  it("adds and removes free stock, recorded once per key; never takes stock on hand below what is reserved", async () => {
    const { sku } = await newProduct(t, { stock: 10 });
    await newOrder(t, [{ sku, quantity: 4 }]);
    const up = await t.sdk().AdjustInventory({ input: { clientMutationId: `adj-up-${sku}`, sku, delta: 5 } });
    expect(as(up.data.adjustInventory, "AdjustInventoryPayload").product).toMatchObject({ stock: 11, reserved: 4 });
    const replay = await t.sdk().AdjustInventory({ input: { clientMutationId: `adj-up-${sku}`, sku, delta: 5 } });
    expect(replay.data).toEqual(up.data);
    const tooMuch = await t.sdk().AdjustInventory({ input: { sku, delta: -12 } });
    expect(as(tooMuch.data.adjustInventory, "OutOfStockError").shortages).toEqual([{ sku, requested: 12, available: 11 }]);
    const down = await t.sdk().AdjustInventory({ input: { sku, delta: -11 } });
    expect(as(down.data.adjustInventory, "AdjustInventoryPayload").product).toMatchObject({ stock: 0, reserved: 4 });
    expect(await quantitiesOf(t, sku)).toEqual({ stock: 0, reserved: 4, sold: 0 });
    expect(await t.db.prisma.inventoryAdjustment.count({ where: { product: { sku } } })).toBe(2);
  });

  it("counts the stock of expired reservations, released first, and keeps that release even when it refuses", async () => {
    const { sku } = await newProduct(t, { stock: 5 });
    const order = await newOrder(t, [{ sku, quantity: 5 }]);
    await expireNow(t, { orderId: order.id });
    const refused = await t.sdk().AdjustInventory({ input: { sku, delta: -6 } });
    expect(as(refused.data.adjustInventory, "OutOfStockError").shortages).toEqual([{ sku, requested: 6, available: 5 }]);
    expect(await t.db.prisma.order.findFirst({ where: { id: order.id } })).toMatchObject({ status: "EXPIRED" });
    expect(await t.db.prisma.product.findFirst({ where: { sku } })).toMatchObject({ stock: 5, reserved: 0 });
  });

  it("an unknown sku is PRODUCT_NOT_FOUND; a delta of 0 or one past an int's range is INVALID_INPUT", async () => {
    const { sku } = await newProduct(t, { stock: 2 });
    const unknown = await t.sdk().AdjustInventory({ input: { sku: "no-such-sku", delta: 1 } });
    expect(as(unknown.data.adjustInventory, "ProductNotFoundError").sku).toBe("no-such-sku");
    const zero = await t.sdk().AdjustInventory({ input: { sku, delta: 0 } });
    expect(as(zero.data.adjustInventory, "InvalidInputError").field).toBe("delta");
    const huge = await t.sdk().AdjustInventory({ input: { sku, delta: 2_147_483_647 } });
    expect(as(huge.data.adjustInventory, "InvalidInputError").field).toBe("delta");
    expect(await quantitiesOf(t, sku)).toEqual({ stock: 2, reserved: 0, sold: 0 });
  });
});

describe("createInventoryReservation", () => {
  it("holds stock until it expires; then the stock is back once, on read, and the reservation is EXPIRED", async () => {
    const { sku } = await newProduct(t, { stock: 6 });
    const input = { clientMutationId: `res-${sku}`, sku, quantity: 4, expiresInSeconds: 60 };
    const first = await t.sdk().CreateInventoryReservation({ input });
    const reservation = as(first.data.createInventoryReservation, "CreateInventoryReservationPayload").reservation;
    expect(reservation).toMatchObject({ quantity: 4, status: "ACTIVE", product: { sku } });
    expect((await t.sdk().CreateInventoryReservation({ input })).data).toEqual(first.data);
    expect(await quantitiesOf(t, sku)).toEqual({ stock: 2, reserved: 4, sold: 0 });
    const short = await t.sdk().CreateInventoryReservation({ input: { sku, quantity: 3 } });
    expect(as(short.data.createInventoryReservation, "OutOfStockError").shortages).toEqual([{ sku, requested: 3, available: 2 }]);

    await expireNow(t, { reservationId: reservation.id });
    expect(await quantitiesOf(t, sku)).toEqual({ stock: 6, reserved: 0, sold: 0 });
    expect(await quantitiesOf(t, sku)).toEqual({ stock: 6, reserved: 0, sold: 0 });
    expect(await t.db.prisma.inventoryReservation.findFirst({ where: { id: reservation.id } })).toMatchObject({ status: "EXPIRED" });
  });

  it("refuses a quantity of 0 or below, an expiry out of 1 s–30 days, an unknown sku", async () => {
    const { sku } = await newProduct(t, { stock: 6 });
    const cases: [{ quantity?: number; expiresInSeconds?: number }, string][] = [
      [{ quantity: 0 }, "quantity"],
      [{ quantity: -2 }, "quantity"],
      [{ expiresInSeconds: 0 }, "expiresInSeconds"],
      [{ expiresInSeconds: 31 * 24 * 3600 }, "expiresInSeconds"],
    ];
    for (const [change, field] of cases) {
      const result = await t.sdk().CreateInventoryReservation({ input: { sku, quantity: 1, ...change } });
      expect(as(result.data.createInventoryReservation, "InvalidInputError").field).toBe(field);
    }
    const unknown = await t.sdk().CreateInventoryReservation({ input: { sku: "nope", quantity: 1 } });
    expect(as(unknown.data.createInventoryReservation, "ProductNotFoundError").sku).toBe("nope");
    expect(await quantitiesOf(t, sku)).toEqual({ stock: 6, reserved: 0, sold: 0 });
  });
});

describe("product(sku)", () => {
  it("answers null for an unknown sku, a malformed one, or another workspace's", async () => {
    const other = await t.newWorkspace("other");
    const { sku } = await newProduct(t, { token: other });
    for (const asked of [sku, "unknown-sku", "", "x".repeat(5_000), "a\u0000b"]) {
      const { data } = await t.sdk().Product({ sku: asked });
      expect(data.product).toBeNull();
    }
  });
});
