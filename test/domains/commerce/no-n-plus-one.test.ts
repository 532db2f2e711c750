import { OrdersDocument, type OrdersQuery } from "@onceql/client";
import { print } from "graphql";
import { afterAll, beforeAll, expect, it } from "vitest";
import { newProduct } from "../../helpers/commerce.ts";
import { startCountingApp } from "../../helpers/query-log.ts";
import { as } from "../../helpers/typed.ts";
import { newWallet, USD } from "../../helpers/wallets.ts";

let t: Awaited<ReturnType<typeof startCountingApp>>;
beforeAll(async () => {
  t = await startCountingApp();
});
afterAll(() => t.close());

/** A workspace with `n` paid orders of two lines each, each refunded twice. */
async function shopOfSize(n: number): Promise<string> {
  const token = await t.newWorkspace(`shop-${n}`);
  const sdk = t.sdk({ token });
  const a = await newProduct(t, { token, stock: 100 });
  const b = await newProduct(t, { token, stock: 100 });
  const walletId = await newWallet(t, "customer", token);
  await sdk.CreditWallet({ input: { walletId, amount: { asset: USD, value: "1000000" } } });
  for (let i = 0; i < n; i++) {
    const created = await sdk.CreateOrder({
      input: {
        lines: [
          { sku: a.sku, quantity: 1 },
          { sku: b.sku, quantity: 2 },
        ],
      },
    });
    const orderId = as(created.data.createOrder, "CreateOrderPayload").order.id;
    const paid = await sdk.CreatePaymentAttempt({ input: { orderId, walletId } });
    const paymentId = as(paid.data.createPaymentAttempt, "CreatePaymentAttemptPayload").payment.id;
    for (let r = 0; r < 2; r++) await sdk.CreateRefund({ input: { paymentId, amount: { asset: USD, value: "10" } } });
  }
  return token;
}

it("reads a page of orders with their lines, payments and refunds in a fixed number of statements", async () => {
  const small = await shopOfSize(2);
  const large = await shopOfSize(8);
  const read = async (token: string) => {
    let orders: OrdersQuery["orders"] | undefined;
    const statements = await t.statementsDuring(async () => {
      orders = (await t.request<OrdersQuery>(print(OrdersDocument), { first: 20 }, { token })).data?.orders;
    });
    return { orders: orders!, statements };
  };
  const few = await read(small);
  const many = await read(large);
  expect(many.orders.edges).toHaveLength(8);
  expect(many.orders.edges.every((edge) => edge.node.lines.length === 2 && edge.node.payments.length === 1)).toBe(true);
  expect(many.orders.edges.every((edge) => edge.node.refunds.length === 2 && edge.node.payments[0]!.transaction)).toBe(true);
  expect(many.statements.length).toBe(few.statements.length);
  // The release check, the page, and one per relation of the selection: lines, customers, payments,
  // refunds, and what those reach (wallets, transactions, and the refunds' payments and transactions).
  expect(many.statements.length).toBeLessThanOrEqual(12);
});
