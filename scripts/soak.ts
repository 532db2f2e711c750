// npm run soak -- --seconds 60: mixed mutations from many SDK clients against three servers on
// one PostgreSQL database and one card issuer simulator while faults are injected (servers killed
// with SIGKILL and restarted, their database connections terminated, issuer responses lost or
// failed), then an audit: every operation has exactly one effect, the cards at the issuer and in
// the database agree one to one, no identity has two ACTIVE cards, every ledger transaction is one
// a client was told about (or a hold's expiry) and every one a client was told about is there, the
// shop's stock adds up (initial + adjustments = stock + reserved + sold) with one SUCCEEDED payment
// per PAID order and refunds within their payments, and `ledger verify` passes; no key is left
// taken, and no client gave up on an operation. Everything runs at the default idempotency settings
// and the SDK's default retry policy. Prints a summary; exits 1 when anything was duplicated, lost
// or out of step.
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { createClient, type OnceqlClient } from "@onceql/client";
import pg from "pg";
import { createWorkspace } from "../src/auth/workspaces.ts";
import { openDatabase } from "../src/db/database.ts";
import { applyMigrations } from "../src/db/migrations.ts";
import { formatAudit, verifyLedger } from "../src/domains/ledger/ledger.verify.ts";
import { startIssuerSimulator } from "../src/issuer-simulator/server.ts";
import { ServerProcess } from "./fleet.ts";
import { adminSql, databaseUrlOnAdminServer } from "./postgres-admin.ts";

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string", default: "60" },
    clients: { type: "string", default: "12" },
    servers: { type: "string", default: "3" },
  },
});
const seconds = Number(args.seconds);
const KINDS = [
  "createKey",
  "creditWallet",
  "createIdentity",
  "debitWallet",
  "updateKey",
  "confirmHold",
  "createCard",
  "debitWallet",
  "setCardStatus",
  "voidHold",
  "createOrder",
  "createPaymentAttempt",
  "checkout",
  "createRefund",
  "createInventoryReservation",
  "createOrder",
  "adjustInventory",
  "createPaymentAttempt",
] as const;
const SHOP_KINDS: readonly string[] = [
  "createOrder",
  "createPaymentAttempt",
  "checkout",
  "createRefund",
  "createInventoryReservation",
  "adjustInventory",
];
const WALLETS = 4;
const PRODUCTS = 5;
const CARD_HOLDERS = 8;
const CARD_STATUSES = ["FROZEN", "ACTIVE", "DELETED"] as const;
const dbName = `onceql_soak_${randomBytes(4).toString("hex")}`;

/** One unit of work: a mutation with its own key, and how to count its effect afterwards. */
interface Operation {
  key: string;
  kind: (typeof KINDS)[number];
  attempts: number;
  done: boolean;
  /** The ledger transaction its answer named, if any. */
  transactionId?: string;
  /** What it answered with (the payload's or the error's type). */
  answer?: string;
  /** The shop's rows its answer named. */
  orderId?: string;
  paymentId?: string;
  refundId?: string;
}

await adminSql(`CREATE DATABASE ${dbName}`);
const databaseUrl = databaseUrlOnAdminServer(dbName);
const db = await openDatabase({ databaseUrl, poolSize: 2 });
await applyMigrations(db.adapterFactory);
const { token } = await createWorkspace(db.prisma, "soak");
// One issuer for every server, as one database is.
const issuer = await startIssuerSimulator({ cardLimit: 5 });
const env = {
  ONCEQL_ISSUER_URL: issuer.url,
  DATABASE_URL: databaseUrl,
  ONCEQL_ENCRYPTION_KEY: randomBytes(32).toString("hex"),
  // Idempotency at its defaults (lease, wait): what a new user runs. Twelve clients in one
  // workspace would meet the per-workspace rate limit, which is not what this run is about.
  ONCEQL_RATE_LIMIT: "0",
};
const servers = await Promise.all(Array.from({ length: Number(args.servers) }, () => ServerProcess.start(env)));
const faults = { kills: 0, connectionsTerminated: 0, issuerFaults: 0 };
const operations: Operation[] = [];
const deadline = Date.now() + seconds * 1_000;
let running = true;

const clients: OnceqlClient[] = servers.map((server) =>
  // The SDK's default retry policy: a client that gives up on an operation is counted below.
  createClient({ url: `${server.url}/graphql`, token }),
);
const setup = await clients[0]!.CreateKey({ input: { name: "soak-target" } });
if (setup.data.createKey?.__typename !== "CreateKeyPayload") throw new Error("setup failed");
const targetKeyId = setup.data.createKey.key.id;
const holders: string[] = [];
for (let i = 0; i < CARD_HOLDERS; i++) {
  const holder = await clients[0]!.CreateIdentity({ input: { externalId: `soak-holder-${i}` } });
  if (holder.data.createIdentity?.__typename !== "CreateIdentityPayload") throw new Error("setup failed");
  holders.push(holder.data.createIdentity.identity.id);
}
const wallets: string[] = [];
const setupTransactions: string[] = [];
for (let i = 0; i < WALLETS; i++) {
  const wallet = await clients[0]!.CreateWallet({ input: { name: `soak-wallet-${i}` } });
  if (wallet.data.createWallet?.__typename !== "CreateWalletPayload") throw new Error("setup failed");
  const walletId = wallet.data.createWallet.wallet.id;
  wallets.push(walletId);
  // A promotion that runs out part way through, so debits from ["*"] see a balance expire.
  const expiresAt = new Date(Date.now() + (seconds * 1_000) / 2).toISOString();
  await clients[0]!.CreateBalance({ input: { walletId, name: "promo", priority: 1, expiresAt } });
  const funded = await clients[0]!.CreditWallet({ input: { walletId, amount: { asset: "USD/2", value: "5000" }, balance: "promo" } });
  if (funded.data.creditWallet?.__typename !== "CreditWalletPayload") throw new Error("setup failed");
  setupTransactions.push(funded.data.creditWallet.transaction.id);
}
const skus: string[] = [];
for (let i = 0; i < PRODUCTS; i++) {
  const sku = `soak-${i}`;
  const product = await clients[0]!.CreateProduct({
    input: { sku, name: `soak product ${i}`, price: { asset: "USD/2", value: String(50 + 40 * i) }, stock: 300 },
  });
  if (product.data.createProduct?.__typename !== "CreateProductPayload") throw new Error("setup failed");
  skus.push(sku);
}
/** Orders the clients were told are RESERVED, and SUCCEEDED payments, for payments and refunds to pick from. */
const knownOrders: string[] = [];
const knownPayments: string[] = [];
/** Pending holds the clients have been told about, for confirmHold and voidHold to pick from. */
const knownHolds: string[] = [];
const usd = (value: number) => ({ asset: "USD/2", value: String(value) });
const pick = <T>(list: T[]) => list[Math.floor(Math.random() * list.length)]!;
/** Cards the clients have been told about, for setCardStatus to pick from. */
const knownCards: string[] = [];
const cardOutcomes = new Map<string, number>();
const countOutcome = (typename: string | undefined) =>
  cardOutcomes.set(typename ?? "null", (cardOutcomes.get(typename ?? "null") ?? 0) + 1);

async function worker(id: number): Promise<void> {
  for (let n = 0; Date.now() < deadline; n++) {
    const client = clients[(id + n) % clients.length]!;
    const kind = KINDS[(id + n) % KINDS.length]!;
    const operation: Operation = { key: `soak-${id}-${n}`, kind, attempts: 0, done: false };
    operations.push(operation);
    const result = await attempt(
      SHOP_KINDS.includes(kind)
        ? shopOperation(client, operation)
        : kind === "creditWallet" || kind === "debitWallet" || kind === "confirmHold" || kind === "voidHold"
          ? ledgerOperation(client, operation)
          : kind === "createKey"
            ? client.CreateKey({ input: { clientMutationId: operation.key, name: operation.key, externalId: `soak-owner-${n % 7}` } })
            : kind === "createIdentity"
              ? client.CreateIdentity({ input: { clientMutationId: operation.key, externalId: operation.key } })
              : kind === "updateKey"
                ? client.UpdateKey({ input: { clientMutationId: operation.key, keyId: targetKeyId, externalId: operation.key } })
                : kind === "createCard" || knownCards.length === 0
                  ? client
                      .CreateCard({ input: { clientMutationId: operation.key, identityId: holders[(id * 7 + n) % holders.length]! } })
                      .then((r) => {
                        countOutcome(r.data.createCard?.__typename);
                        if (r.data.createCard?.__typename === "CreateCardPayload" && !knownCards.includes(r.data.createCard.card.id)) {
                          knownCards.push(r.data.createCard.card.id);
                        }
                        return r;
                      })
                  : client
                      .SetCardStatus({
                        input: {
                          clientMutationId: operation.key,
                          cardId: knownCards[Math.floor(Math.random() * knownCards.length)]!,
                          status: CARD_STATUSES[Math.floor(Math.random() * CARD_STATUSES.length)]!,
                        },
                      })
                      .then((r) => {
                        countOutcome(r.data.setCardStatus?.__typename);
                        // A deleted card stays deleted: stop picking it.
                        if (r.data.setCardStatus?.__typename === "CardNotFoundError") {
                          knownCards.splice(knownCards.indexOf(r.data.setCardStatus.cardId), 1);
                        }
                        return r;
                      }),
    );
    operation.attempts = result.attempts;
    operation.done = result.ok;
  }
}

/** A ledger mutation with the operation's key; notes the transaction its answer names. */
async function ledgerOperation(client: OnceqlClient, operation: Operation): Promise<{ attempts: number }> {
  const { key, kind } = operation;
  const metadata = { key };
  if (kind === "creditWallet" || (kind !== "debitWallet" && knownHolds.length === 0)) {
    const r = await client.CreditWallet({
      input: { clientMutationId: key, walletId: pick(wallets), amount: usd(1 + Math.floor(Math.random() * 100)), metadata },
    });
    operation.answer = r.data.creditWallet?.__typename;
    if (r.data.creditWallet?.__typename === "CreditWalletPayload") operation.transactionId = r.data.creditWallet.transaction.id;
    return r;
  }
  if (kind === "debitWallet") {
    const pending = Math.random() < 0.5;
    const r = await client.DebitWallet({
      input: {
        clientMutationId: key,
        walletId: pick(wallets),
        amount: usd(1 + Math.floor(Math.random() * 150)),
        balances: Math.random() < 0.5 ? ["*"] : ["main"],
        pending,
        holdExpiresInSeconds: pending ? 1 + Math.floor(Math.random() * 8) : undefined,
        metadata,
      },
    });
    operation.answer = r.data.debitWallet?.__typename;
    if (r.data.debitWallet?.__typename === "DebitWalletPayload") {
      operation.transactionId = r.data.debitWallet.transaction.id;
      if (r.data.debitWallet.hold) knownHolds.push(r.data.debitWallet.hold.id);
    }
    return r;
  }
  const holdId = pick(knownHolds);
  if (kind === "confirmHold") {
    const amount = Math.random() < 0.5 ? String(1 + Math.floor(Math.random() * 40)) : undefined;
    const r = await client.ConfirmHold({ input: { clientMutationId: key, holdId, amount, final: Math.random() < 0.3 } });
    operation.answer = r.data.confirmHold?.__typename;
    if (r.data.confirmHold?.__typename === "ConfirmHoldPayload") operation.transactionId = r.data.confirmHold.transaction.id;
    if (r.data.confirmHold?.__typename === "HoldNotPendingError") knownHolds.splice(knownHolds.indexOf(holdId), 1);
    return r;
  }
  const r = await client.VoidHold({ input: { clientMutationId: key, holdId } });
  operation.answer = r.data.voidHold?.__typename;
  if (knownHolds.includes(holdId)) knownHolds.splice(knownHolds.indexOf(holdId), 1);
  return r;
}

/** Lines of 1–3 skus, 1–3 units each. */
function someLines(): { sku: string; quantity: number }[] {
  return Array.from({ length: 1 + Math.floor(Math.random() * 3) }, () => ({
    sku: pick(skus),
    quantity: 1 + Math.floor(Math.random() * 3),
  }));
}

/** A shop mutation with the operation's key; notes what it answered, and the ledger transaction it names. */
async function shopOperation(client: OnceqlClient, operation: Operation): Promise<{ attempts: number }> {
  const { key } = operation;
  const kind = operation.kind === "createPaymentAttempt" && knownOrders.length === 0 ? "createOrder" : operation.kind;
  const refundable = kind === "createRefund" && knownPayments.length > 0;
  if (kind === "createOrder" || (kind === "createRefund" && !refundable)) {
    const r = await client.CreateOrder({
      input: {
        clientMutationId: key,
        lines: someLines(),
        customerExternalId: `soak-customer-${Math.floor(Math.random() * 5)}`,
        // Some expire while the soak runs: their stock must come back exactly once.
        expiresInSeconds: 1 + Math.floor(Math.random() * 10),
      },
    });
    operation.answer = r.data.createOrder?.__typename;
    if (r.data.createOrder?.__typename === "CreateOrderPayload") {
      operation.orderId = r.data.createOrder.order.id;
      knownOrders.push(r.data.createOrder.order.id);
    }
    return r;
  }
  if (kind === "createPaymentAttempt") {
    const orderId = pick(knownOrders);
    const r = await client.CreatePaymentAttempt({ input: { clientMutationId: key, orderId, walletId: pick(wallets) } });
    const answer = r.data.createPaymentAttempt;
    operation.answer = answer?.__typename === "CreatePaymentAttemptPayload" ? `Payment${answer.payment.status}` : answer?.__typename;
    if (answer?.__typename === "CreatePaymentAttemptPayload") {
      operation.paymentId = answer.payment.id;
      operation.transactionId = answer.payment.transaction?.id;
      if (answer.payment.status === "SUCCEEDED") knownPayments.push(answer.payment.id);
    }
    if (
      (answer?.__typename === "CreatePaymentAttemptPayload" && answer.payment.status === "SUCCEEDED") ||
      answer?.__typename === "OrderNotPayableError"
    ) {
      if (knownOrders.includes(orderId)) knownOrders.splice(knownOrders.indexOf(orderId), 1);
    }
    return r;
  }
  if (kind === "checkout") {
    const r = await client.Checkout({ input: { clientMutationId: key, walletId: pick(wallets), lines: someLines().slice(0, 2) } });
    operation.answer = r.data.checkout?.__typename;
    if (r.data.checkout?.__typename === "CheckoutPayload") {
      operation.orderId = r.data.checkout.order.id;
      operation.paymentId = r.data.checkout.payment.id;
      operation.transactionId = r.data.checkout.payment.transaction?.id;
      knownPayments.push(r.data.checkout.payment.id);
    }
    return r;
  }
  if (kind === "createRefund") {
    const r = await client.CreateRefund({
      input: { clientMutationId: key, paymentId: pick(knownPayments), amount: usd(1 + Math.floor(Math.random() * 200)) },
    });
    operation.answer = r.data.createRefund?.__typename;
    if (r.data.createRefund?.__typename === "CreateRefundPayload") {
      operation.refundId = r.data.createRefund.refund.id;
      operation.transactionId = r.data.createRefund.refund.transaction.id;
    }
    return r;
  }
  if (kind === "createInventoryReservation") {
    const r = await client.CreateInventoryReservation({
      input: {
        clientMutationId: key,
        sku: pick(skus),
        quantity: 1 + Math.floor(Math.random() * 3),
        expiresInSeconds: 1 + Math.floor(Math.random() * 8),
      },
    });
    operation.answer = r.data.createInventoryReservation?.__typename;
    return r;
  }
  const delta = Math.random() < 0.3 ? -(1 + Math.floor(Math.random() * 5)) : 1 + Math.floor(Math.random() * 10);
  const r = await client.AdjustInventory({ input: { clientMutationId: key, sku: pick(skus), delta } });
  operation.answer = r.data.adjustInventory?.__typename;
  return r;
}

/** The client retries by itself; one that still gives up is reported, not fatal. */
async function attempt(call: Promise<{ attempts: number }>): Promise<{ attempts: number; ok: boolean }> {
  try {
    return { attempts: (await call).attempts, ok: true };
  } catch (error) {
    return { attempts: (error as { attempts?: number }).attempts ?? 1, ok: false };
  }
}

async function chaos(): Promise<void> {
  const terminator = new pg.Client({ connectionString: databaseUrl });
  await terminator.connect();
  try {
    while (running) {
      await sleep(1_000 + Math.random() * 2_000);
      if (!running) break;
      const dice = Math.random();
      if (dice < 0.3) {
        // The issuer loses a creation's response, or fails a few requests.
        const fault = Math.random() < 0.5 ? { loseNextCreates: 1 } : { failNext: 3 };
        await fetch(`${issuer.url}/_faults`, { method: "POST", body: JSON.stringify(fault) });
        faults.issuerFaults++;
      } else if (dice < 0.65) {
        const server = servers[Math.floor(Math.random() * servers.length)]!;
        await server.kill();
        faults.kills++;
        await sleep(200 + Math.random() * 800);
        await server.restart();
      } else {
        const { rowCount } = await terminator.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND random() < 0.5",
          [dbName],
        );
        faults.connectionsTerminated += rowCount ?? 0;
      }
    }
  } finally {
    await terminator.end();
  }
}

process.stderr.write(`soak: ${seconds}s, ${args.clients} clients, ${servers.length} servers on ${dbName}\n`);
const chaosDone = chaos();
try {
  await Promise.all(Array.from({ length: Number(args.clients) }, (_, id) => worker(id)));
} finally {
  running = false;
  await chaosDone;
}

// The audit: each operation's effect, counted in the database.
let duplicated = 0;
let lost = 0;
const count = async (sql: string, params: unknown[]) => Number((await db.bookkeeping.query<{ n: number }>(sql, params)).rows[0]!.n);
for (const operation of operations) {
  // Cards are audited below, against the issuer, and the ledger against its answers: their effects
  // are not counted per key.
  if (!["createKey", "createIdentity", "updateKey"].includes(operation.kind)) continue;
  const effects =
    operation.kind === "createKey"
      ? await count("SELECT count(*)::int AS n FROM api_keys WHERE name = $1", [operation.key])
      : await count("SELECT count(*)::int AS n FROM identities WHERE external_id = $1", [operation.key]);
  if (effects > 1) duplicated++;
  // Lost: the client was told it happened, and it did not.
  if (effects === 0 && operation.done) lost++;
}
const unacknowledged = operations.filter((op) => !op.done).length;
const owners = await count("SELECT count(*)::int AS n FROM identities WHERE external_id LIKE 'soak-owner-%'", []);
if (owners > 7) duplicated += owners - 7;
// The cards: the issuer's and the database's, one to one, with the same status; one ACTIVE each at most.
await fetch(`${issuer.url}/_faults`, { method: "DELETE" });
const atIssuer = new Map(issuer.state.all().map((card) => [card.id, card]));
const held = new Map(
  (
    await db.bookkeeping.query<{ id: string; status: string; identity_id: string }>("SELECT id, status, identity_id FROM cards", [])
  ).rows.map((row) => [row.id, row]),
);
const cardsOutOfStep = [
  ...[...atIssuer.values()].filter((card) => held.get(card.id)?.status !== card.status || held.get(card.id)?.identity_id !== card.userId),
  ...[...held.keys()].filter((id) => !atIssuer.has(id)),
].length;
/** Owners with more than one ACTIVE card among these. */
const ownersWithTwoActive = (cards: { owner: string; status: string }[]) => {
  const active = cards.filter((card) => card.status === "ACTIVE").map((card) => card.owner);
  return new Set(active.filter((owner, index) => active.indexOf(owner) !== index)).size;
};
const identitiesWithTwoActiveCards =
  ownersWithTwoActive([...atIssuer.values()].map((card) => ({ owner: card.userId, status: card.status }))) +
  ownersWithTwoActive([...held.values()].map((card) => ({ owner: card.identity_id, status: card.status })));
// The ledger: every transaction a client was told about is there, and every other one is a hold's
// expiry (or a void, whose answer names no transaction); and the books balance.
const told = new Set([
  ...setupTransactions,
  ...operations.flatMap((operation) => (operation.transactionId ? [operation.transactionId] : [])),
]);
const transactions = (await db.bookkeeping.query<{ id: string; kind: string }>("SELECT id, kind FROM ledger_transactions", [])).rows;
const ledgerLost = [...told].filter((id) => !transactions.some((transaction) => transaction.id === id)).length;
const voidsTold = operations.filter((operation) => operation.answer === "VoidHoldPayload").length;
const voids = transactions.filter((transaction) => transaction.kind === "VOID").length;
const ledgerDuplicated =
  transactions.filter((transaction) => !told.has(transaction.id) && transaction.kind !== "EXPIRE" && transaction.kind !== "VOID").length +
  Math.max(0, voids - voidsTold);
lost += ledgerLost + Math.max(0, voidsTold - voids);
duplicated += ledgerDuplicated;
// The shop: every product's quantities add up, reserved and sold are what its reservations say,
// every PAID order has exactly one SUCCEEDED payment (and no other order has one), refunds add up to
// what their payment says was refunded and never more than it, every successful payment's debit is
// its amount, and every order, payment and refund a client was told about is there.
const productsOutOfBalance = await count(
  `SELECT count(*)::int AS n FROM products p
   WHERE p.initial_stock + (SELECT coalesce(sum(delta), 0) FROM inventory_adjustments a WHERE a.workspace_id = p.workspace_id AND a.product_id = p.id)
           <> p.stock + p.reserved + p.sold
      OR p.reserved <> (SELECT coalesce(sum(quantity), 0) FROM inventory_reservations r
                        WHERE r.workspace_id = p.workspace_id AND r.product_id = p.id AND r.status = 'ACTIVE')
      OR p.sold <> (SELECT coalesce(sum(quantity), 0) FROM inventory_reservations r
                    WHERE r.workspace_id = p.workspace_id AND r.product_id = p.id AND r.status = 'CONSUMED')`,
  [],
);
const ordersWithoutOnePayment = await count(
  `SELECT count(*)::int AS n FROM orders o
   WHERE (o.status = 'PAID') <> ((SELECT count(*) FROM payments y WHERE y.workspace_id = o.workspace_id AND y.order_id = o.id AND y.status = 'SUCCEEDED') = 1)`,
  [],
);
const paymentsOverRefunded = await count(
  `SELECT count(*)::int AS n FROM payments y
   WHERE y.refunded > y.amount
      OR y.refunded <> (SELECT coalesce(sum(amount), 0) FROM refunds f WHERE f.workspace_id = y.workspace_id AND f.payment_id = y.id)`,
  [],
);
const paymentsMischarged = await count(
  `SELECT count(*)::int AS n FROM payments y
   WHERE y.status = 'SUCCEEDED' AND y.amount > 0
     AND y.amount IS DISTINCT FROM (SELECT sum(amount) FROM ledger_postings g
                                    WHERE g.workspace_id = y.workspace_id AND g.transaction_id = y.transaction_id AND g.destination = 'world')`,
  [],
);
const shopLost = (
  await Promise.all(
    operations.flatMap((operation) => [
      operation.orderId ? count("SELECT count(*)::int AS n FROM orders WHERE id = $1", [operation.orderId]) : 1,
      operation.paymentId ? count("SELECT count(*)::int AS n FROM payments WHERE id = $1", [operation.paymentId]) : 1,
      operation.refundId ? count("SELECT count(*)::int AS n FROM refunds WHERE id = $1", [operation.refundId]) : 1,
    ]),
  )
).filter((found) => found === 0).length;
lost += shopLost;
const shopAudit = { productsOutOfBalance, ordersWithoutOnePayment, paymentsOverRefunded, paymentsMischarged };
const ledgerAudit = await verifyLedger(db.prisma);
// Keys still taken with nothing in flight: an attempt holds its key's lock in a session named
// onceql:<mutation>:..., and nothing may hold one once the traffic has stopped (after the last
// attempt's own time limit). Rows an earlier version left IN_PROGRESS past their lease count too.
const keysHeld = () =>
  count(
    `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE 'onceql:%' AND a.datname = current_database()`,
    [],
  );
for (let waited = 0; waited < 10 && (await keysHeld()) > 0; waited++) await sleep(1_000);
const stuck =
  (await keysHeld()) +
  (await count("SELECT count(*)::int AS n FROM idempotency_records WHERE status = 'IN_PROGRESS' AND lease_expires_at < now()", []));
const summary = {
  seconds,
  operations: operations.length,
  requestsSent: operations.reduce((sum, op) => sum + op.attempts, 0),
  faultsInjected: faults.kills + faults.connectionsTerminated + faults.issuerFaults,
  serverKills: faults.kills,
  connectionsTerminated: faults.connectionsTerminated,
  issuerFaults: faults.issuerFaults,
  cardsAtIssuer: atIssuer.size,
  cardsHeld: held.size,
  cardOutcomes: Object.fromEntries(cardOutcomes),
  cardsOutOfStep,
  identitiesWithTwoActiveCards,
  ledgerTransactions: transactions.length,
  holdsExpired: transactions.filter((transaction) => transaction.kind === "EXPIRE").length,
  ledgerAnswers: operations.reduce<Record<string, number>>((answers, operation) => {
    if (operation.answer && /Wallet|Hold/.test(operation.kind)) answers[operation.answer] = (answers[operation.answer] ?? 0) + 1;
    return answers;
  }, {}),
  ledgerVerified: ledgerAudit.ok,
  shopAnswers: operations.reduce<Record<string, number>>((answers, operation) => {
    if (operation.answer && SHOP_KINDS.includes(operation.kind)) answers[operation.answer] = (answers[operation.answer] ?? 0) + 1;
    return answers;
  }, {}),
  ordersExpired: await count("SELECT count(*)::int AS n FROM orders WHERE status = 'EXPIRED'", []),
  reservationsExpired: await count("SELECT count(*)::int AS n FROM inventory_reservations WHERE status = 'EXPIRED'", []),
  ...shopAudit,
  keysRetried: operations.filter((op) => op.attempts > 1).length,
  operationsNeverAcknowledged: unacknowledged,
  effectsDuplicated: duplicated,
  effectsLost: lost,
  keysStillTaken: stuck,
};
console.log(JSON.stringify(summary, null, 2));
if (!ledgerAudit.ok) console.log(formatAudit(ledgerAudit));

await Promise.all(servers.map((server) => server.stop()));
await issuer.close();
await db.close();
await adminSql(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
const clean =
  duplicated === 0 &&
  lost === 0 &&
  stuck === 0 &&
  unacknowledged === 0 &&
  cardsOutOfStep === 0 &&
  identitiesWithTwoActiveCards === 0 &&
  Object.values(shopAudit).every((n) => n === 0) &&
  ledgerAudit.ok;
process.exit(clean ? 0 : 1);
