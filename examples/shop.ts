// A shop on the ledger: two products, an order that reserves both, its payment from a wallet (a
// retry is a replay: one charge), a partial refund, and a checkout that pays in one step. Run
// against a server:
//   ONCEQL_URL=http://127.0.0.1:4000/graphql ONCEQL_TOKEN=oq_ws_... npx tsx --conditions=onceql-source examples/shop.ts
import { randomUUID } from "node:crypto";
import { createClient } from "@onceql/client";

const onceql = createClient({ url: process.env.ONCEQL_URL ?? "http://127.0.0.1:4000/graphql", token: process.env.ONCEQL_TOKEN ?? "" });
const cents = (value: number) => ({ asset: "USD/2", value: String(value) });
const run = randomUUID().slice(0, 8);
const tee = `tee-${run}`;
const mug = `mug-${run}`;

for (const [sku, name, price, stock] of [
  [tee, "T-shirt", 1_500, 10],
  [mug, "Mug", 800, 2],
] as const) {
  const product = await onceql.CreateProduct({ input: { sku, name, price: cents(price), stock } });
  if (product.data.createProduct?.__typename !== "CreateProductPayload") throw new Error("createProduct failed");
}

const created = await onceql.CreateWallet({ input: { name: "Ada's wallet" } });
if (created.data.createWallet?.__typename !== "CreateWalletPayload") throw new Error("createWallet failed");
const walletId = created.data.createWallet.wallet.id;
await onceql.CreditWallet({ input: { walletId, amount: cents(10_000) } });

// All lines or none: 3 mugs when there are 2 reserves nothing, and says which sku is short.
const tooMany = await onceql.CreateOrder({
  input: {
    lines: [
      { sku: tee, quantity: 1 },
      { sku: mug, quantity: 3 },
    ],
  },
});
if (tooMany.data.createOrder?.__typename === "OutOfStockError") {
  for (const s of tooMany.data.createOrder.shortages) console.log(`short: ${s.requested} requested, ${s.available} available`);
}

const ordered = await onceql.CreateOrder({
  input: {
    lines: [
      { sku: tee, quantity: 2 },
      { sku: mug, quantity: 1 },
    ],
    customerExternalId: "ada",
  },
});
if (ordered.data.createOrder?.__typename !== "CreateOrderPayload")
  throw new Error(`createOrder failed: ${ordered.data.createOrder?.__typename}`);
const order = ordered.data.createOrder.order;
console.log(`order ${order.status}, total ${order.total.value} ${order.total.asset}`);

// Pick the key once, before the first attempt, and keep it for every retry of this payment.
const payment = { clientMutationId: randomUUID(), orderId: order.id, walletId };
const paid = await onceql.CreatePaymentAttempt({ input: payment });
const first = paid.data.createPaymentAttempt;
if (first?.__typename !== "CreatePaymentAttemptPayload") throw new Error(`payment failed: ${first?.__typename}`);
console.log(`payment ${first.payment.status}, order ${first.payment.order.status}`);
// As if the response had been lost: the same call again is a replay, and the wallet is charged once.
const retry = await onceql.CreatePaymentAttempt({ input: payment });
const again = retry.data.createPaymentAttempt;
console.log(
  `retry replayed: ${retry.replayed}, same payment: ${again?.__typename === "CreatePaymentAttemptPayload" && again.payment.id === first.payment.id}`,
);
// Another key for the same order cannot pay it twice.
const twice = await onceql.CreatePaymentAttempt({ input: { orderId: order.id, walletId } });
if (twice.data.createPaymentAttempt?.__typename === "OrderNotPayableError")
  console.log(`second payment: ORDER_NOT_PAYABLE (${twice.data.createPaymentAttempt.status})`);

const refund = await onceql.CreateRefund({ input: { paymentId: first.payment.id, amount: cents(800) } });
if (refund.data.createRefund?.__typename !== "CreateRefundPayload") throw new Error("createRefund failed");
const tooMuch = await onceql.CreateRefund({ input: { paymentId: first.payment.id, amount: cents(5_000) } });
if (tooMuch.data.createRefund?.__typename === "RefundExceedsPaymentError")
  console.log(`refundable now: ${tooMuch.data.createRefund.refundable.value}`);

const checkout = await onceql.Checkout({ input: { walletId, lines: [{ sku: mug, quantity: 1 }] } });
if (checkout.data.checkout?.__typename !== "CheckoutPayload") throw new Error(`checkout failed: ${checkout.data.checkout?.__typename}`);
console.log(`checkout: order ${checkout.data.checkout.order.status}, payment ${checkout.data.checkout.payment.status}`);

for (const sku of [tee, mug]) {
  const { data } = await onceql.Product({ sku });
  console.log(`${data.product?.name}: stock ${data.product?.stock}, reserved ${data.product?.reserved}, sold ${data.product?.sold}`);
}
const wallet = await onceql.Wallet({ id: walletId });
console.log(
  `main: ${wallet.data.wallet?.balances
    .find((b) => b.name === "main")
    ?.available.map((m) => `${m.value} ${m.asset}`)
    .join(", ")}`,
);
