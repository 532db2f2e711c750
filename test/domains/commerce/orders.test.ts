import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { sweepExpiredStock } from "../../../src/domains/commerce/expiry.service.ts";
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

const money = (value: number | bigint, asset = USD) => ({ asset, value: String(value) });

describe("createOrder", () => {
  it("reserves every line at the prices of its time; a replay is identical; a new price leaves the order as it was", async () => {
    const tee = await newProduct(t, { stock: 10, price: 1500 });
    const mug = await newProduct(t, { stock: 3, price: 800 });
    const input = {
      clientMutationId: "order-1",
      lines: [
        { sku: tee.sku, quantity: 2 },
        { sku: mug.sku, quantity: 1 },
      ],
      customerExternalId: "alice",
    };
    const first = await t.sdk().CreateOrder({ input });
    const order = as(first.data.createOrder, "CreateOrderPayload").order;
    expect(order).toMatchObject({
      status: "RESERVED",
      lines: [
        { sku: tee.sku, quantity: 2, unitPrice: money(1500) },
        { sku: mug.sku, quantity: 1, unitPrice: money(800) },
      ],
      total: money(3800),
      customer: { externalId: "alice" },
      paidAt: null,
    });
    expect(new Date(order.reservedUntil).getTime() - new Date(order.createdAt).getTime()).toBeCloseTo(900_000, -3);
    const replay = await t.sdk().CreateOrder({ input });
    expect(replay.replayed).toBe(true);
    expect(replay.data).toEqual(first.data);
    expect(await quantitiesOf(t, tee.sku)).toEqual({ stock: 8, reserved: 2, sold: 0 });
    expect(await quantitiesOf(t, mug.sku)).toEqual({ stock: 2, reserved: 1, sold: 0 });
    await t.db.prisma.product.updateMany({ where: { sku: tee.sku }, data: { price: 9999n } });
    expect((await t.sdk().Order({ id: order.id })).data.order?.total).toEqual(money(3800));
  });

  it("reserves nothing when any line is short, and lists every sku short", async () => {
    const a = await newProduct(t, { stock: 2 });
    const b = await newProduct(t, { stock: 5 });
    const c = await newProduct(t, { stock: 1 });
    const result = await t.sdk().CreateOrder({
      input: {
        lines: [
          { sku: a.sku, quantity: 3 },
          { sku: b.sku, quantity: 5 },
          { sku: c.sku, quantity: 4 },
        ],
      },
    });
    expect(as(result.data.createOrder, "OutOfStockError")).toMatchObject({
      code: "OUT_OF_STOCK",
      shortages: [
        { sku: a.sku, requested: 3, available: 2 },
        { sku: c.sku, requested: 4, available: 1 },
      ],
    });
    for (const product of [a, b, c]) expect(await quantitiesOf(t, product.sku)).toMatchObject({ reserved: 0 });
    expect(await t.db.prisma.order.count({ where: { lines: { some: { sku: b.sku } } } })).toBe(0);
  });

  it("a bundle: two lines of one sku, 6 + 6 of a stock of 10, is OUT_OF_STOCK with one shortage of 12; nothing reserved", async () => {
    const { sku } = await newProduct(t, { stock: 10 });
    const result = await t.sdk().CreateOrder({
      input: {
        lines: [
          { sku, quantity: 6 },
          { sku, quantity: 6 },
        ],
      },
    });
    expect(as(result.data.createOrder, "OutOfStockError").shortages).toEqual([{ sku, requested: 12, available: 10 }]);
    expect(await quantitiesOf(t, sku)).toEqual({ stock: 10, reserved: 0, sold: 0 });
    const fits = await newOrder(t, [
      { sku, quantity: 6 },
      { sku, quantity: 4 },
    ]);
    expect(fits.lines.map((line) => line.quantity)).toEqual([6, 4]);
    expect(await quantitiesOf(t, sku)).toEqual({ stock: 0, reserved: 10, sold: 0 });
  });

  it("an unpaid order past reservedUntil is EXPIRED on read, its stock back exactly once", async () => {
    const { sku } = await newProduct(t, { stock: 4 });
    const order = await newOrder(t, [{ sku, quantity: 3 }]);
    await expireNow(t, { orderId: order.id });
    const read = (await t.sdk().Order({ id: order.id })).data.order;
    expect(read).toMatchObject({ status: "EXPIRED" });
    expect(read?.expiredAt).not.toBeNull();
    await t.sdk().Order({ id: order.id });
    await sweepExpiredStock(t.db.prisma);
    expect(await quantitiesOf(t, sku)).toEqual({ stock: 4, reserved: 0, sold: 0 });
  });

  it("a new order releases the expired ones on its products first, those products' other skus too, and spends what came back", async () => {
    const a = await newProduct(t, { stock: 2 });
    const b = await newProduct(t, { stock: 2 });
    const old = await newOrder(t, [
      { sku: a.sku, quantity: 2 },
      { sku: b.sku, quantity: 1 },
    ]);
    await expireNow(t, { orderId: old.id });
    const next = await newOrder(t, [{ sku: a.sku, quantity: 2 }]);
    expect(next.status).toBe("RESERVED");
    expect(await t.db.prisma.order.findFirst({ where: { id: old.id } })).toMatchObject({ status: "EXPIRED" });
    expect(await t.db.prisma.product.findFirst({ where: { sku: b.sku } })).toMatchObject({ stock: 2, reserved: 0 });
  });

  it("a refused order keeps the release of the expired reservations it found", async () => {
    const { sku } = await newProduct(t, { stock: 3 });
    const old = await newOrder(t, [{ sku, quantity: 3 }]);
    await expireNow(t, { orderId: old.id });
    const refused = await t.sdk().CreateOrder({ input: { lines: [{ sku, quantity: 4 }] } });
    expect(as(refused.data.createOrder, "OutOfStockError").shortages).toEqual([{ sku, requested: 4, available: 3 }]);
    expect(await t.db.prisma.order.findFirst({ where: { id: old.id } })).toMatchObject({ status: "EXPIRED" });
    expect(await t.db.prisma.product.findFirst({ where: { sku } })).toMatchObject({ stock: 3, reserved: 0 });
  });
});

describe("bad input: a typed error, and nothing changes", () => {
  const state = async () => ({
    orders: await t.db.prisma.order.count(),
    reservations: await t.db.prisma.inventoryReservation.count(),
    stock: await t.db.prisma.product.aggregate({ _sum: { stock: true, reserved: true } }),
  });

  it("an unknown sku, in any line: PRODUCT_NOT_FOUND naming it", async () => {
    const { sku } = await newProduct(t);
    const before = await state();
    const result = await t.sdk().CreateOrder({
      input: {
        lines: [
          { sku, quantity: 1 },
          { sku: "ghost", quantity: 1 },
        ],
      },
    });
    expect(as(result.data.createOrder, "ProductNotFoundError")).toMatchObject({ code: "PRODUCT_NOT_FOUND", sku: "ghost" });
    expect(await state()).toEqual(before);
  });

  it("quantities of 0 or below, no lines, a thousand lines, a malformed sku, prices in two assets, an expiry out of range", async () => {
    const { sku } = await newProduct(t, { stock: 5_000 });
    const euro = await newProduct(t, { asset: "EUR/2" });
    const before = await state();
    const cases: [Record<string, unknown>, string][] = [
      [{ lines: [{ sku, quantity: 0 }] }, "lines[0].quantity"],
      [
        {
          lines: [
            { sku, quantity: 1 },
            { sku, quantity: -3 },
          ],
        },
        "lines[1].quantity",
      ],
      [{ lines: [] }, "lines"],
      [{ lines: Array.from({ length: 1_000 }, () => ({ sku, quantity: 1 })) }, "lines"],
      [{ lines: Array.from({ length: 101 }, () => ({ sku, quantity: 1 })) }, "lines"],
      [{ lines: [{ sku: "bad sku", quantity: 1 }] }, "lines[0].sku"],
      [
        {
          lines: [
            { sku, quantity: 1 },
            { sku: euro.sku, quantity: 1 },
          ],
        },
        "lines[1].sku",
      ],
      [{ lines: [{ sku, quantity: 1 }], expiresInSeconds: 0 }, "expiresInSeconds"],
    ];
    for (const [input, field] of cases) {
      const result = await t.sdk().CreateOrder({ input: input as never });
      expect(as(result.data.createOrder, "InvalidInputError").field).toBe(field);
    }
    expect(await state()).toEqual(before);
    const hundred = await newOrder(
      t,
      Array.from({ length: 100 }, () => ({ sku, quantity: 1 })),
    );
    expect(hundred.lines).toHaveLength(100);
    expect(hundred.total).toEqual(money(25_000));
  });
});

describe("orders", () => {
  it("is a Relay connection of the workspace's orders, newest first, page by page, expired ones shown EXPIRED", async () => {
    const token = await t.newWorkspace("lister");
    const { sku } = await newProduct(t, { token, stock: 10 });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await newOrder(t, [{ sku, quantity: 1 }], { token })).id);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await expireNow(t, { orderId: ids[0]! });
    const sdk = t.sdk({ token });
    const first = (await sdk.Orders({ first: 2 })).data.orders;
    expect(first.edges.map((edge) => edge.node.id)).toEqual([ids[2], ids[1]]);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = (await sdk.Orders({ first: 2, after: first.pageInfo.endCursor })).data.orders;
    expect(second.edges.map((edge) => [edge.node.id, edge.node.status])).toEqual([[ids[0], "EXPIRED"]]);
    expect(second.pageInfo.hasNextPage).toBe(false);
    expect(await quantitiesOf(t, sku, token)).toEqual({ stock: 8, reserved: 2, sold: 0 });
  });

  it("order(id): null for an unknown id or another workspace's order", async () => {
    const token = await t.newWorkspace("someone else");
    const { sku } = await newProduct(t, { token });
    const theirs = await newOrder(t, [{ sku, quantity: 1 }], { token });
    expect((await t.sdk().Order({ id: theirs.id })).data.order).toBeNull();
    expect((await t.sdk().Order({ id: crypto.randomUUID() })).data.order).toBeNull();
    expect((await t.sdk({ token }).Order({ id: theirs.id })).data.order?.id).toBe(theirs.id);
  });
});
