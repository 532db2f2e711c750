// The shop: createOrder and checkout, one connection, on distinct products (their p50 over HTTP);
// and a hot product: 32 connections ordering one sku, with stock enough for every order of a round.
import { type BenchServer, checked, load, requireClean } from "./harness.ts";
import { summarize } from "./identity-phases.ts";
import type { Phase, PhaseResult } from "./load.ts";
import { percentile } from "./stats.ts";

const ORDERED = '"__typename":"CreateOrderPayload"';
const CHECKED_OUT = '"__typename":"CheckoutPayload"';
const PRODUCTS = 64;
/** Stock no round can exhaust, one unit at a time. */
const STOCK = 1_000_000_000;
const FUNDS = "1000000000000";

const createOrder = (key: string, sku: string) =>
  JSON.stringify({
    query:
      "mutation($input: CreateOrderInput!) { createOrder(input: $input) { __typename ... on CreateOrderPayload { order { id status total { asset value } lines { sku quantity } } } } }",
    variables: { input: { clientMutationId: key, lines: [{ sku, quantity: 1 }] } },
  });

const checkout = (key: string, walletId: string, sku: string) =>
  JSON.stringify({
    query:
      "mutation($input: CheckoutInput!) { checkout(input: $input) { __typename ... on CheckoutPayload { order { id status } payment { id status } } } }",
    variables: { input: { clientMutationId: key, walletId, lines: [{ sku, quantity: 1 }] } },
  });

async function graphql(server: BenchServer, query: string, variables: unknown): Promise<Record<string, Record<string, unknown>>> {
  const response = await fetch(`${server.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${server.token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: Record<string, Record<string, unknown>>; errors?: unknown };
  if (!body.data || body.errors || Object.values(body.data).some((field) => !String(field.__typename).endsWith("Payload")))
    throw new Error(`bench setup failed: ${JSON.stringify(body)}`);
  return body.data;
}

async function product(server: BenchServer, sku: string): Promise<void> {
  await graphql(server, "mutation($input: CreateProductInput!) { createProduct(input: $input) { __typename } }", {
    input: { clientMutationId: `bench-product-${sku}`, sku, name: sku, price: { asset: "USD/2", value: "1" }, stock: STOCK },
  });
}

async function fundedWallet(server: BenchServer): Promise<string> {
  const created = await graphql(
    server,
    "mutation($input: CreateWalletInput!) { createWallet(input: $input) { __typename ... on CreateWalletPayload { wallet { id } } } }",
    { input: { clientMutationId: "bench-shop-wallet", name: "shopper" } },
  );
  const walletId = (created.createWallet as { wallet: { id: string } }).wallet.id;
  await graphql(server, "mutation($input: CreditWalletInput!) { creditWallet(input: $input) { __typename } }", {
    input: { clientMutationId: "bench-shop-fund", walletId, amount: { asset: "USD/2", value: FUNDS } },
  });
  return walletId;
}

export async function measureShop(server: BenchServer, options: { rounds: number; requests: number; progress(what: string): void }) {
  const { rounds: ROUNDS, requests: N, progress } = options;
  const base = { url: server.url, token: server.token };
  progress(`shop: ${PRODUCTS} products, a hot one and a funded wallet`);
  const skus = Array.from({ length: PRODUCTS }, (_, i) => `bench-${i}`);
  for (let i = 0; i < PRODUCTS; i += 16) await Promise.all(skus.slice(i, i + 16).map((sku) => product(server, sku)));
  await product(server, "bench-hot");
  const walletId = await fundedWallet(server);
  // `%W%` takes the phase's list in turn: here, a different sku per request.
  const distinct = (body: string, expectText: string, extra: Partial<Phase> = {}): Phase => ({
    ...base,
    body,
    each: skus,
    connections: 1,
    amount: N,
    expectText,
    ...extra,
  });
  await load(distinct(createOrder("shop-warm-%N%", "%W%"), ORDERED, { amount: 300 }));
  await load(distinct(checkout("shop-warm-c-%N%", walletId, "%W%"), CHECKED_OUT, { amount: 300 }));

  const rounds: Record<string, number>[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    progress(`shop: round ${r + 1} of ${ROUNDS}`);
    const order = await checked(server, "createOrder", distinct(createOrder(`s${r}-order-%N%`, "%W%"), ORDERED), { executions: N });
    const paid = await checked(server, "checkout", distinct(checkout(`s${r}-checkout-%N%`, walletId, "%W%"), CHECKED_OUT), {
      executions: N,
    });
    const hot = requireClean(
      await load({ ...base, body: createOrder(`s${r}-hot-%N%`, "bench-hot"), connections: 32, durationS: 3, expectText: ORDERED }),
    );
    const p50 = (result: PhaseResult) => percentile(result.latenciesMs, 50);
    rounds.push({
      order_first_p50_ms: p50(order),
      checkout_first_p50_ms: p50(paid),
      order_rps_hot: hot.requests / hot.durationS,
      order_hot_p99_ms: percentile(hot.latenciesMs, 99),
    });
  }
  return { summary: summarize(rounds), rounds };
}
