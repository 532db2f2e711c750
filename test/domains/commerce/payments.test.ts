import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { expireNow, inventoryDrift, newOrder, newProduct, quantitiesOf } from "../../helpers/commerce.ts";
import { startTestApp, type TestApp } from "../../helpers/test-app.ts";
import { as } from "../../helpers/typed.ts";
import { balancesOf, credit, expectLedgerSound, newBalance, newWallet, USD } from "../../helpers/wallets.ts";

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

/** A reserved order of `quantity` units at `price`, and a wallet holding `funds`. */
async function orderAndWallet(options: { price?: number; quantity?: number; funds?: number; stock?: number } = {}) {
  const product = await newProduct(t, { stock: options.stock ?? 10, price: options.price ?? 1_000 });
  const order = await newOrder(t, [{ sku: product.sku, quantity: options.quantity ?? 2 }]);
  const walletId = await newWallet(t);
  if (options.funds !== 0) await credit(t, walletId, options.funds ?? 10_000);
  return { sku: product.sku, orderId: order.id, walletId };
}

describe("createPaymentAttempt", () => {
  it("debits the wallet for the order's total through the ledger, marks it PAID and its stock sold; a replay is identical", async () => {
    const { sku, orderId, walletId } = await orderAndWallet({ price: 1_250, quantity: 3 });
    const input = { clientMutationId: `pay-${orderId}`, orderId, walletId };
    const first = await t.sdk().CreatePaymentAttempt({ input });
    const payment = as(first.data.createPaymentAttempt, "CreatePaymentAttemptPayload").payment;
    expect(payment).toMatchObject({
      status: "SUCCEEDED",
      reason: null,
      amount: money(3_750),
      refunded: money(0),
      order: { status: "PAID" },
    });
    const replay = await t.sdk().CreatePaymentAttempt({ input });
    expect(replay.replayed).toBe(true);
    expect(replay.data).toEqual(first.data);
    expect(await balancesOf(t, walletId)).toEqual({ main: 6_250n });
    expect(await quantitiesOf(t, sku)).toEqual({ stock: 7, reserved: 0, sold: 3 });
    const transaction = (await t.sdk().Transaction({ id: payment.transaction!.id })).data.transaction!;
    expect(transaction.postings).toEqual([{ source: `wallet:${walletId}:main`, destination: "world", amount: money(3_750) }]);
    expect(transaction.metadata).toEqual({ orderId, paymentId: payment.id });
    const order = (await t.sdk().Order({ id: orderId })).data.order!;
    expect(order).toMatchObject({ status: "PAID", payments: [{ id: payment.id, status: "SUCCEEDED" }] });
    expect(order.paidAt).not.toBeNull();
  });

  it("takes from every unexpired balance, those that expire first, main last", async () => {
    const { orderId, walletId } = await orderAndWallet({ price: 500, quantity: 2, funds: 600 });
    await newBalance(t, walletId, "promo", { expiresAt: new Date(Date.now() + 3_600_000) });
    await credit(t, walletId, 700, { balance: "promo" });
    const paid = await t.sdk().CreatePaymentAttempt({ input: { orderId, walletId } });
    as(paid.data.createPaymentAttempt, "CreatePaymentAttemptPayload");
    expect(await balancesOf(t, walletId)).toEqual({ main: 300n, promo: 0n });
  });

  it("not enough money: a stored FAILED payment (INSUFFICIENT_FUNDS), nothing moves, the order stays RESERVED and can be paid later", async () => {
    const { sku, orderId, walletId } = await orderAndWallet({ price: 1_000, quantity: 2, funds: 1_999 });
    const input = { clientMutationId: `declined-${orderId}`, orderId, walletId };
    const declined = await t.sdk().CreatePaymentAttempt({ input });
    const payment = as(declined.data.createPaymentAttempt, "CreatePaymentAttemptPayload").payment;
    expect(payment).toMatchObject({ status: "FAILED", reason: "INSUFFICIENT_FUNDS", amount: money(2_000), transaction: null });
    await credit(t, walletId, 1);
    const replay = await t.sdk().CreatePaymentAttempt({ input });
    expect(replay.replayed).toBe(true);
    expect(replay.data.createPaymentAttempt).toMatchObject({ payment: { id: payment.id, status: "FAILED" } });
    expect(await balancesOf(t, walletId)).toEqual({ main: 2_000n });
    expect(await quantitiesOf(t, sku)).toEqual({ stock: 8, reserved: 2, sold: 0 });
    const retry = await t.sdk().CreatePaymentAttempt({ input: { orderId, walletId } });
    expect(as(retry.data.createPaymentAttempt, "CreatePaymentAttemptPayload").payment.status).toBe("SUCCEEDED");
    const order = (await t.sdk().Order({ id: orderId })).data.order!;
    expect(order.payments.map((p) => p.status)).toEqual(["FAILED", "SUCCEEDED"]);
  });

  it("an order is paid once: another key, or another wallet, gets ORDER_NOT_PAYABLE with status PAID", async () => {
    const { orderId, walletId } = await orderAndWallet();
    as((await t.sdk().CreatePaymentAttempt({ input: { orderId, walletId } })).data.createPaymentAttempt, "CreatePaymentAttemptPayload");
    const otherWallet = await newWallet(t);
    await credit(t, otherWallet, 10_000);
    for (const wallet of [walletId, otherWallet]) {
      const again = await t.sdk().CreatePaymentAttempt({ input: { orderId, walletId: wallet } });
      expect(as(again.data.createPaymentAttempt, "OrderNotPayableError")).toMatchObject({
        code: "ORDER_NOT_PAYABLE",
        orderId,
        status: "PAID",
      });
    }
    expect(await balancesOf(t, walletId)).toEqual({ main: 8_000n });
    expect(await balancesOf(t, otherWallet)).toEqual({ main: 10_000n });
  });

  it("an expired order: ORDER_NOT_PAYABLE with status EXPIRED, nothing debited, and its stock is back (the release is kept)", async () => {
    const { sku, orderId, walletId } = await orderAndWallet({ quantity: 4 });
    await expireNow(t, { orderId });
    const late = await t.sdk().CreatePaymentAttempt({ input: { orderId, walletId } });
    expect(as(late.data.createPaymentAttempt, "OrderNotPayableError")).toMatchObject({ orderId, status: "EXPIRED" });
    expect(await t.db.prisma.order.findFirst({ where: { id: orderId } })).toMatchObject({ status: "EXPIRED" });
    expect(await t.db.prisma.product.findFirst({ where: { sku } })).toMatchObject({ stock: 10, reserved: 0, sold: 0 });
    expect(await balancesOf(t, walletId)).toEqual({ main: 10_000n });
    expect(await t.db.prisma.payment.count({ where: { orderId } })).toBe(0);
  });

  it("another workspace's order, or a wallet of another workspace: ORDER_NOT_FOUND / WALLET_NOT_FOUND, nothing changes", async () => {
    const other = await t.newWorkspace("other shop");
    const theirProduct = await newProduct(t, { token: other });
    const theirOrder = await newOrder(t, [{ sku: theirProduct.sku, quantity: 1 }], { token: other });
    const theirWallet = await newWallet(t, "theirs", other);
    await t.sdk({ token: other }).CreditWallet({ input: { walletId: theirWallet, amount: money(10_000) } });
    const { orderId, walletId } = await orderAndWallet();
    const before = { payments: await t.db.prisma.payment.count(), transactions: await t.db.prisma.ledgerTransaction.count() };
    const foreignOrder = await t.sdk().CreatePaymentAttempt({ input: { orderId: theirOrder.id, walletId } });
    expect(as(foreignOrder.data.createPaymentAttempt, "OrderNotFoundError").orderId).toBe(theirOrder.id);
    const foreignWallet = await t.sdk().CreatePaymentAttempt({ input: { orderId, walletId: theirWallet } });
    expect(as(foreignWallet.data.createPaymentAttempt, "WalletNotFoundError").walletId).toBe(theirWallet);
    expect({ payments: await t.db.prisma.payment.count(), transactions: await t.db.prisma.ledgerTransaction.count() }).toEqual(before);
    expect((await t.sdk().Order({ id: orderId })).data.order?.status).toBe("RESERVED");
    const theirs = (await t.sdk({ token: other }).Wallet({ id: theirWallet })).data.wallet!;
    expect(theirs.balances.map((b) => [b.name, b.available])).toEqual([["main", [money(10_000)]]]);
  });
});

describe("createRefund", () => {
  async function paidOrder(total = 1_000) {
    const { orderId, walletId } = await orderAndWallet({ price: total, quantity: 1 });
    const paid = await t.sdk().CreatePaymentAttempt({ input: { orderId, walletId } });
    return { orderId, walletId, paymentId: as(paid.data.createPaymentAttempt, "CreatePaymentAttemptPayload").payment.id };
  }

  it("credits the wallet's main balance back through the ledger, up to the payment and no more; a replay is identical", async () => {
    const { orderId, walletId, paymentId } = await paidOrder(1_000);
    const input = { clientMutationId: `refund-${paymentId}`, paymentId, amount: money(600) };
    const first = await t.sdk().CreateRefund({ input });
    const refund = as(first.data.createRefund, "CreateRefundPayload").refund;
    expect(refund).toMatchObject({ amount: money(600), payment: { id: paymentId } });
    expect((await t.sdk().CreateRefund({ input })).data).toEqual(first.data);
    const over = await t.sdk().CreateRefund({ input: { paymentId, amount: money(401) } });
    expect(as(over.data.createRefund, "RefundExceedsPaymentError")).toMatchObject({
      code: "REFUND_EXCEEDS_PAYMENT",
      paymentId,
      refundable: money(400),
    });
    as((await t.sdk().CreateRefund({ input: { paymentId, amount: money(400) } })).data.createRefund, "CreateRefundPayload");
    expect(await balancesOf(t, walletId)).toEqual({ main: 10_000n });
    const order = (await t.sdk().Order({ id: orderId })).data.order!;
    expect(order.refunds.map((r) => r.amount.value)).toEqual(["600", "400"]);
    expect(order.payments[0]!.refunded).toEqual(money(1_000));
    const transaction = (await t.sdk().Transaction({ id: refund.transaction.id })).data.transaction!;
    expect(transaction).toMatchObject({ kind: "CREDIT", postings: [{ source: "world", destination: `wallet:${walletId}:main` }] });
  });

  it("another asset: INVALID_INPUT; zero or negative: INVALID_INPUT; a failed payment refunds nothing; unknown: PAYMENT_NOT_FOUND", async () => {
    const { walletId, paymentId } = await paidOrder(1_000);
    const before = await balancesOf(t, walletId);
    const euros = await t.sdk().CreateRefund({ input: { paymentId, amount: money(10, "EUR/2") } });
    expect(as(euros.data.createRefund, "InvalidInputError").field).toBe("amount.asset");
    for (const value of [0, -5]) {
      const bad = await t.sdk().CreateRefund({ input: { paymentId, amount: money(value) } });
      expect(as(bad.data.createRefund, "InvalidInputError").field).toBe("amount.value");
    }
    const declined = await orderAndWallet({ funds: 0 });
    const failed = as(
      (await t.sdk().CreatePaymentAttempt({ input: { orderId: declined.orderId, walletId: declined.walletId } })).data.createPaymentAttempt,
      "CreatePaymentAttemptPayload",
    ).payment;
    const nothing = await t.sdk().CreateRefund({ input: { paymentId: failed.id, amount: money(1) } });
    expect(as(nothing.data.createRefund, "RefundExceedsPaymentError").refundable).toEqual(money(0));
    const unknown = await t.sdk().CreateRefund({ input: { paymentId: crypto.randomUUID(), amount: money(1) } });
    expect(as(unknown.data.createRefund, "PaymentNotFoundError").code).toBe("PAYMENT_NOT_FOUND");
    expect(await balancesOf(t, walletId)).toEqual(before);
    expect(await t.db.prisma.refund.count({ where: { paymentId } })).toBe(0);
  });
});
