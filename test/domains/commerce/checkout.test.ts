import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { expireNow, inventoryDrift, newOrder, newProduct, quantitiesOf } from "../../helpers/commerce.ts";
import { startTestApp, type TestApp } from "../../helpers/test-app.ts";
import { as } from "../../helpers/typed.ts";
import { balancesOf, credit, expectLedgerSound, newWallet, USD } from "../../helpers/wallets.ts";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterEach(async () => {
  await expectLedgerSound(t.db);
  expect(await inventoryDrift(t)).toEqual([]);
});
afterAll(() => t.close());

const money = (value: number | bigint, asset = USD) => ({ asset, value: String(value) });

it("with enough money: the order PAID and the wallet debited once, in one transaction; its replay is identical", async () => {
  const { sku } = await newProduct(t, { stock: 5, price: 700 });
  const walletId = await newWallet(t);
  await credit(t, walletId, 5_000);
  const input = { clientMutationId: `checkout-${sku}`, walletId, lines: [{ sku, quantity: 3 }], customerExternalId: "bob" };
  const first = await t.sdk().Checkout({ input });
  const { order, payment } = as(first.data.checkout, "CheckoutPayload");
  expect(order).toMatchObject({ status: "PAID", total: money(2_100), customer: { externalId: "bob" } });
  expect(payment).toMatchObject({ status: "SUCCEEDED", amount: money(2_100) });
  const replay = await t.sdk().Checkout({ input });
  expect(replay.replayed).toBe(true);
  expect(replay.data).toEqual(first.data);
  expect(await balancesOf(t, walletId)).toEqual({ main: 2_900n });
  expect(await quantitiesOf(t, sku)).toEqual({ stock: 2, reserved: 0, sold: 3 });
  expect(await t.db.prisma.ledgerTransaction.count({ where: { walletId, kind: "DEBIT" } })).toBe(1);
});

it("with too little money: INSUFFICIENT_FUNDS, stored and replayed; no order, no reservation, the stock unchanged", async () => {
  const { sku } = await newProduct(t, { stock: 5, price: 700 });
  const walletId = await newWallet(t);
  await credit(t, walletId, 1_000);
  const before = { orders: await t.db.prisma.order.count(), reservations: await t.db.prisma.inventoryReservation.count() };
  const input = { clientMutationId: `poor-${sku}`, walletId, lines: [{ sku, quantity: 2 }] };
  const refused = await t.sdk().Checkout({ input });
  expect(as(refused.data.checkout, "InsufficientFundsError")).toMatchObject({
    code: "INSUFFICIENT_FUNDS",
    requested: money(1_400),
    available: money(1_000),
  });
  await credit(t, walletId, 1_000);
  const replay = await t.sdk().Checkout({ input });
  expect(replay.replayed).toBe(true);
  expect(replay.data).toEqual(refused.data);
  expect({ orders: await t.db.prisma.order.count(), reservations: await t.db.prisma.inventoryReservation.count() }).toEqual(before);
  expect(await quantitiesOf(t, sku)).toEqual({ stock: 5, reserved: 0, sold: 0 });
  expect(await balancesOf(t, walletId)).toEqual({ main: 2_000n });
});

it("out of stock: OUT_OF_STOCK and nothing debited; a wallet of another workspace: WALLET_NOT_FOUND", async () => {
  const { sku } = await newProduct(t, { stock: 1, price: 100 });
  const walletId = await newWallet(t);
  await credit(t, walletId, 1_000);
  const short = await t.sdk().Checkout({ input: { walletId, lines: [{ sku, quantity: 2 }] } });
  expect(as(short.data.checkout, "OutOfStockError").shortages).toEqual([{ sku, requested: 2, available: 1 }]);
  const other = await t.newWorkspace("elsewhere");
  const theirWallet = await newWallet(t, "theirs", other);
  const foreign = await t.sdk().Checkout({ input: { walletId: theirWallet, lines: [{ sku, quantity: 1 }] } });
  expect(as(foreign.data.checkout, "WalletNotFoundError").walletId).toBe(theirWallet);
  expect(await balancesOf(t, walletId)).toEqual({ main: 1_000n });
  expect(await quantitiesOf(t, sku)).toEqual({ stock: 1, reserved: 0, sold: 0 });
});

it("refused for money, it keeps the release of an expired order it found on its products, and nothing of its own", async () => {
  const { sku } = await newProduct(t, { stock: 2, price: 500 });
  const old = await newOrder(t, [{ sku, quantity: 2 }]);
  await expireNow(t, { orderId: old.id });
  const walletId = await newWallet(t);
  await credit(t, walletId, 999);
  const refused = await t.sdk().Checkout({ input: { walletId, lines: [{ sku, quantity: 2 }] } });
  expect(as(refused.data.checkout, "InsufficientFundsError").requested).toEqual(money(1_000));
  expect(await t.db.prisma.order.findFirst({ where: { id: old.id } })).toMatchObject({ status: "EXPIRED" });
  expect(await t.db.prisma.product.findFirst({ where: { sku } })).toMatchObject({ stock: 2, reserved: 0, sold: 0 });
  expect(await t.db.prisma.order.count({ where: { lines: { some: { sku } } } })).toBe(1);
  expect(await balancesOf(t, walletId)).toEqual({ main: 999n });
});
