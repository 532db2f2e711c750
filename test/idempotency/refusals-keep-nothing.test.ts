import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { expireNow, inventoryDrift, newOrder, newProduct, quantitiesOf } from "../helpers/commerce.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { as } from "../helpers/typed.ts";
import { balancesOf, credit, expectLedgerSound, newWallet, USD } from "../helpers/wallets.ts";

/**
 * A mutation answered with a UserError keeps only housekeeping that is not its own: the release of
 * holds, reservations and orders that had expired (a checkpoint), never a row of its own. Each
 * mutation that calls `checkpoint()` is refused here right after its housekeeping released
 * something, and the database is checked for both halves.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterEach(async () => {
  await expectLedgerSound(t.db);
  expect(await inventoryDrift(t)).toEqual([]);
});
afterAll(() => t.close());

const money = (value: number) => ({ asset: USD, value: String(value) });
const identities = (externalId: string) => t.db.prisma.identity.count({ where: { externalId } });

/** A product whose only stock is held by an order that has just expired. */
async function stockHeldByAnExpiredOrder(stock: number, price = 500) {
  const { sku } = await newProduct(t, { stock, price });
  const old = await newOrder(t, [{ sku, quantity: stock }]);
  await expireNow(t, { orderId: old.id });
  return { sku, oldOrderId: old.id };
}

/** A wallet holding `value`, all of it in a pending hold that has just expired. */
async function fundsHeldByAnExpiredHold(value: number) {
  const walletId = await newWallet(t);
  await credit(t, walletId, value);
  const debit = await t.sdk().DebitWallet({ input: { walletId, amount: money(value), pending: true } });
  const holdId = as(debit.data.debitWallet, "DebitWalletPayload").hold!.id;
  await t.db.prisma.hold.updateMany({ where: { id: holdId }, data: { expiresAt: new Date(Date.now() - 1_000) } });
  return { walletId, holdId };
}

const expectExpired = async (orderId: string) =>
  expect(await t.db.prisma.order.findFirst({ where: { id: orderId } })).toMatchObject({ status: "EXPIRED" });

describe("a refusal keeps the release of what expired, and nothing of its own", () => {
  it("checkout refused for money after releasing an expired order: no customer, no order", async () => {
    const { sku, oldOrderId } = await stockHeldByAnExpiredOrder(2);
    const walletId = await newWallet(t);
    await credit(t, walletId, 999);
    const refused = await t.sdk().Checkout({ input: { walletId, lines: [{ sku, quantity: 2 }], customerExternalId: "ghost-customer-0" } });
    as(refused.data.checkout, "InsufficientFundsError");
    await expectExpired(oldOrderId);
    expect(await quantitiesOf(t, sku)).toEqual({ stock: 2, reserved: 0, sold: 0 });
    expect(await identities("ghost-customer-0")).toBe(0);
    const identity = await t.sdk().CreateIdentity({ input: { externalId: "ghost-customer-0" } });
    as(identity.data.createIdentity, "CreateIdentityPayload");
  });

  it("checkout refused for money after releasing the wallet's expired hold: no customer, no order", async () => {
    const { sku } = await newProduct(t, { stock: 5, price: 500 });
    const { walletId, holdId } = await fundsHeldByAnExpiredHold(400);
    const refused = await t.sdk().Checkout({ input: { walletId, lines: [{ sku, quantity: 1 }], customerExternalId: "ghost-customer-1" } });
    as(refused.data.checkout, "InsufficientFundsError");
    expect(await t.db.prisma.hold.findFirst({ where: { id: holdId } })).toMatchObject({ status: "EXPIRED", remaining: 0n });
    expect(await balancesOf(t, walletId)).toEqual({ main: 400n });
    expect(await identities("ghost-customer-1")).toBe(0);
    expect(await t.db.prisma.order.count({ where: { lines: { some: { sku } } } })).toBe(0);
  });

  it("createOrder refused out of stock after releasing an expired order: no customer, no order", async () => {
    const { sku, oldOrderId } = await stockHeldByAnExpiredOrder(2);
    const refused = await t.sdk().CreateOrder({ input: { lines: [{ sku, quantity: 3 }], customerExternalId: "ghost-customer-2" } });
    as(refused.data.createOrder, "OutOfStockError");
    await expectExpired(oldOrderId);
    expect(await quantitiesOf(t, sku)).toEqual({ stock: 2, reserved: 0, sold: 0 });
    expect(await identities("ghost-customer-2")).toBe(0);
    expect(await t.db.prisma.order.count({ where: { lines: { some: { sku } } } })).toBe(1);
  });

  it("createInventoryReservation refused after releasing an expired order: no reservation", async () => {
    const { sku, oldOrderId } = await stockHeldByAnExpiredOrder(2);
    const refused = await t.sdk().CreateInventoryReservation({ input: { sku, quantity: 3 } });
    as(refused.data.createInventoryReservation, "OutOfStockError");
    await expectExpired(oldOrderId);
    expect(await t.db.prisma.inventoryReservation.count({ where: { product: { sku }, orderId: null } })).toBe(0);
  });

  it("adjustInventory refused after releasing an expired order: no adjustment", async () => {
    const { sku, oldOrderId } = await stockHeldByAnExpiredOrder(2);
    const refused = await t.sdk().AdjustInventory({ input: { sku, delta: -3 } });
    as(refused.data.adjustInventory, "OutOfStockError");
    await expectExpired(oldOrderId);
    expect(await t.db.prisma.inventoryAdjustment.count({ where: { product: { sku } } })).toBe(0);
  });

  it("createPaymentAttempt refused (the order expired) after releasing it and the wallet's expired hold: no payment, no debit", async () => {
    const { sku } = await newProduct(t, { stock: 1, price: 100 });
    const order = await newOrder(t, [{ sku, quantity: 1 }]);
    await expireNow(t, { orderId: order.id });
    const { walletId, holdId } = await fundsHeldByAnExpiredHold(300);
    const refused = await t.sdk().CreatePaymentAttempt({ input: { orderId: order.id, walletId } });
    expect(as(refused.data.createPaymentAttempt, "OrderNotPayableError").status).toBe("EXPIRED");
    await expectExpired(order.id);
    expect(await t.db.prisma.hold.findFirst({ where: { id: holdId } })).toMatchObject({ status: "EXPIRED" });
    expect(await t.db.prisma.payment.count({ where: { orderId: order.id } })).toBe(0);
    expect(await t.db.prisma.ledgerTransaction.count({ where: { walletId, kind: "DEBIT" } })).toBe(0);
  });

  it("debitWallet refused for money after releasing an expired hold: no debit, no hold", async () => {
    const { walletId, holdId } = await fundsHeldByAnExpiredHold(300);
    const refused = await t.sdk().DebitWallet({ input: { walletId, amount: money(301), pending: true } });
    as(refused.data.debitWallet, "InsufficientFundsError");
    expect(await t.db.prisma.hold.findFirst({ where: { id: holdId } })).toMatchObject({ status: "EXPIRED" });
    expect(await t.db.prisma.hold.count({ where: { walletId } })).toBe(1);
    expect(await balancesOf(t, walletId)).toEqual({ main: 300n });
  });

  it("confirmHold and voidHold of a hold found expired: HOLD_NOT_PENDING, the hold released once, nothing confirmed or voided", async () => {
    const { walletId, holdId } = await fundsHeldByAnExpiredHold(300);
    const confirmed = await t.sdk().ConfirmHold({ input: { holdId, amount: "100" } });
    expect(as(confirmed.data.confirmHold, "HoldNotPendingError").status).toBe("EXPIRED");
    const voided = await t.sdk().VoidHold({ input: { holdId } });
    expect(as(voided.data.voidHold, "HoldNotPendingError").status).toBe("EXPIRED");
    const kinds = (await t.db.prisma.ledgerTransaction.findMany({ where: { holdId } })).map((transaction) => transaction.kind).sort();
    expect(kinds).toEqual(["EXPIRE", "HOLD"]);
    expect(await balancesOf(t, walletId)).toEqual({ main: 300n });
  });
});
