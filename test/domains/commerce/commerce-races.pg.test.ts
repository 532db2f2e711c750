import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { sweepExpiredStock } from "../../../src/domains/commerce/expiry.service.ts";
import { expireNow, inventoryDrift, newOrder, newProduct, quantitiesOf } from "../../helpers/commerce.ts";
import { createPostgresDatabase, postgresAvailable } from "../../helpers/databases.ts";
import { startTestApp, type TestApp } from "../../helpers/test-app.ts";
import { as } from "../../helpers/typed.ts";
import { balancesOf, credit, expectLedgerSound, newWallet, USD } from "../../helpers/wallets.ts";

/** Races on PostgreSQL, where requests run truly in parallel: two servers on one database. */
describe.skipIf(!postgresAvailable())("the shop under parallel requests, on PostgreSQL", () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let servers: TestApp[];
  const money = (value: number) => ({ asset: USD, value: String(value) });
  const sdk = (i: number) => servers[i % 2]!.sdk({ token: servers[0]!.token });
  const first = () => servers[0]!;

  beforeAll(async () => {
    database = await createPostgresDatabase();
    servers = [await startTestApp({ databaseUrl: database.url }), await startTestApp({ databaseUrl: database.url })];
  });
  afterEach(async () => {
    await expectLedgerSound(first().db);
    expect(await inventoryDrift(first())).toEqual([]);
  });
  afterAll(async () => {
    await Promise.all(servers?.map((server) => server.close()) ?? []);
    await database?.drop();
  });

  it("50 createOrder with one key: one order, its stock reserved once, 50 identical answers", async () => {
    const { sku } = await newProduct(first(), { stock: 100 });
    const input = { clientMutationId: `one-order-${sku}`, lines: [{ sku, quantity: 3 }] };
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => sdk(i).CreateOrder({ input })));
    for (const result of results) expect(result.data).toEqual(results[0]!.data);
    expect(results.filter((result) => !result.replayed)).toHaveLength(1);
    as(results[0]!.data.createOrder, "CreateOrderPayload");
    expect(await first().db.prisma.order.count({ where: { lines: { some: { sku } } } })).toBe(1);
    expect(await quantitiesOf(first(), sku)).toEqual({ stock: 97, reserved: 3, sold: 0 });
  });

  it("50 createOrder with distinct keys, one unit each, of a stock of 10: exactly 10 orders, 40 OUT_OF_STOCK, stock 0", async () => {
    const { sku } = await newProduct(first(), { stock: 10 });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        sdk(i).CreateOrder({ input: { clientMutationId: `last-units-${sku}-${i}`, lines: [{ sku, quantity: 1 }] } }),
      ),
    );
    const kinds = results.map((result) => result.data.createOrder?.__typename);
    expect(kinds.filter((kind) => kind === "CreateOrderPayload")).toHaveLength(10);
    expect(kinds.filter((kind) => kind === "OutOfStockError")).toHaveLength(40);
    expect(await quantitiesOf(first(), sku)).toEqual({ stock: 0, reserved: 10, sold: 0 });
    expect(await first().db.prisma.order.count({ where: { lines: { some: { sku } } } })).toBe(10);
  });

  it("20 orders of two skus racing in opposite line orders: every request answered, no deadlock reaches a client", async () => {
    const a = await newProduct(first(), { stock: 1_000 });
    const b = await newProduct(first(), { stock: 1_000 });
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => {
        const lines =
          i % 2
            ? [
                { sku: a.sku, quantity: 1 },
                { sku: b.sku, quantity: 2 },
              ]
            : [
                { sku: b.sku, quantity: 2 },
                { sku: a.sku, quantity: 1 },
              ];
        return servers[i % 2]!.request(
          /* GraphQL */ `
          mutation ($o: CreateOrderInput!, $r: CreateInventoryReservationInput!) {
            o: createOrder(input: $o) { __typename }
            r: createInventoryReservation(input: $r) { __typename }
          }`,
          {
            o: { clientMutationId: `crossed-${a.sku}-${i}`, lines },
            r: { clientMutationId: `crossed-r-${a.sku}-${i}`, sku: i % 2 ? b.sku : a.sku, quantity: 1 },
          },
          { token: first().token },
        );
      }),
    );
    for (const response of responses) {
      expect(response.errors).toBeUndefined();
      expect(response.data).toEqual({ o: { __typename: "CreateOrderPayload" }, r: { __typename: "CreateInventoryReservationPayload" } });
    }
    expect(await quantitiesOf(first(), a.sku)).toEqual({ stock: 1_000 - 20 - 10, reserved: 30, sold: 0 });
    expect(await quantitiesOf(first(), b.sku)).toEqual({ stock: 1_000 - 40 - 10, reserved: 50, sold: 0 });
  });

  it("20 createPaymentAttempt for one order with distinct keys: the wallet debited once, one SUCCEEDED, 19 ORDER_NOT_PAYABLE (PAID)", async () => {
    const { sku } = await newProduct(first(), { stock: 10, price: 1_000 });
    const order = await newOrder(first(), [{ sku, quantity: 2 }]);
    const walletId = await newWallet(first());
    await credit(first(), walletId, 100_000);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        sdk(i).CreatePaymentAttempt({ input: { clientMutationId: `pay-race-${order.id}-${i}`, orderId: order.id, walletId } }),
      ),
    );
    const answers = results.map((result) => result.data.createPaymentAttempt);
    expect(answers.filter((answer) => answer?.__typename === "CreatePaymentAttemptPayload")).toHaveLength(1);
    const refused = answers.filter((answer) => answer?.__typename === "OrderNotPayableError");
    expect(refused).toHaveLength(19);
    expect(refused.every((answer) => answer.__typename === "OrderNotPayableError" && answer.status === "PAID")).toBe(true);
    expect(await balancesOf(first(), walletId)).toEqual({ main: 98_000n });
    expect(await first().db.prisma.ledgerTransaction.count({ where: { walletId, kind: "DEBIT" } })).toBe(1);
    expect(await first().db.prisma.payment.count({ where: { orderId: order.id, status: "SUCCEEDED" } })).toBe(1);
    expect(await quantitiesOf(first(), sku)).toEqual({ stock: 8, reserved: 0, sold: 2 });
  });

  it("20 createRefund of 30% each with distinct keys: exactly 3 succeed, 17 REFUND_EXCEEDS_PAYMENT, the wallet gets back 90%", async () => {
    const { sku } = await newProduct(first(), { stock: 10, price: 1_000 });
    const order = await newOrder(first(), [{ sku, quantity: 1 }]);
    const walletId = await newWallet(first());
    await credit(first(), walletId, 1_000);
    const paid = await first()
      .sdk()
      .CreatePaymentAttempt({ input: { orderId: order.id, walletId } });
    const paymentId = as(paid.data.createPaymentAttempt, "CreatePaymentAttemptPayload").payment.id;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        sdk(i).CreateRefund({ input: { clientMutationId: `refund-race-${paymentId}-${i}`, paymentId, amount: money(300) } }),
      ),
    );
    const kinds = results.map((result) => result.data.createRefund?.__typename);
    expect(kinds.filter((kind) => kind === "CreateRefundPayload")).toHaveLength(3);
    expect(kinds.filter((kind) => kind === "RefundExceedsPaymentError")).toHaveLength(17);
    expect(await balancesOf(first(), walletId)).toEqual({ main: 900n });
    expect(await first().db.prisma.payment.findFirst({ where: { id: paymentId } })).toMatchObject({ refunded: 900n, amount: 1_000n });
  });

  it("an expired reservation's stock comes back exactly once while the sweeper, reads and new orders race for it", async () => {
    const { sku } = await newProduct(first(), { stock: 10 });
    const reservations: string[] = [];
    for (let i = 0; i < 3; i++) {
      const made = await first()
        .sdk()
        .CreateInventoryReservation({ input: { sku, quantity: 2, expiresInSeconds: 3_600 } });
      reservations.push(as(made.data.createInventoryReservation, "CreateInventoryReservationPayload").reservation.id);
    }
    const order = await newOrder(first(), [{ sku, quantity: 4 }]);
    expect(await quantitiesOf(first(), sku)).toEqual({ stock: 0, reserved: 10, sold: 0 });
    for (const reservationId of reservations) await expireNow(first(), { reservationId });
    await expireNow(first(), { orderId: order.id });
    const racers = Array.from({ length: 10 }, (_, i) => [
      sweepExpiredStock(servers[i % 2]!.db.prisma),
      sdk(i).CreateOrder({ input: { clientMutationId: `after-expiry-${sku}-${i}`, lines: [{ sku, quantity: 1 }] } }),
      sdk(i + 1).Product({ sku }),
      sdk(i).Order({ id: order.id }),
    ]).flat();
    const settled = await Promise.all(racers);
    const orders = settled.filter(
      (result) => typeof result === "object" && "data" in result && "createOrder" in (result.data as object),
    ) as { data: { createOrder: { __typename: string } } }[];
    expect(orders.map((result) => result.data.createOrder.__typename)).toEqual(Array(10).fill("CreateOrderPayload"));
    const released = await first().db.prisma.inventoryReservation.findMany({ where: { product: { sku }, status: "EXPIRED" } });
    expect(released).toHaveLength(4);
    expect(await first().db.prisma.order.findFirst({ where: { id: order.id } })).toMatchObject({ status: "EXPIRED" });
    expect(await quantitiesOf(first(), sku)).toEqual({ stock: 0, reserved: 10, sold: 0 });
  });
});
