import { setTimeout as sleep } from "node:timers/promises";
import {
  AdjustInventoryDocument,
  CheckoutDocument,
  ConfirmHoldDocument,
  CreateBalanceDocument,
  CreateCardDocument,
  CreateInventoryReservationDocument,
  CreateOrderDocument,
  CreatePaymentAttemptDocument,
  CreateProductDocument,
  CreateRefundDocument,
  CreateWalletDocument,
  CreditWalletDocument,
  DebitWalletDocument,
  SetCardStatusDocument,
  VoidHoldDocument,
} from "@onceql/client";
import { print } from "graphql";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { newOrder, newProduct } from "../helpers/commerce.ts";
import { createPostgresDatabase, postgresAvailable } from "../helpers/databases.ts";
import { startTestIssuer, type TestIssuer } from "../helpers/issuer.ts";
import { CREATE_IDENTITY, CREATE_KEY, UPDATE_KEY } from "../helpers/operations.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { as } from "../helpers/typed.ts";
import { credit, expectLedgerSound, newWallet, USD } from "../helpers/wallets.ts";

/**
 * What every mutation promises, checked for each one: a replay gives identical data, another
 * input under the key is refused, and 20 duplicates fired at once on two servers sharing one
 * PostgreSQL database leave exactly one effect. Past the TTL, when the stored outcome is gone,
 * the same input makes no second effect (it answers from what the first made, REPLAYED), and
 * another input is a new operation or refused, never answered with the first one's rows.
 */
describe.skipIf(!postgresAvailable())("every mutation, on PostgreSQL", () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let issuer: TestIssuer;
  let servers: TestApp[];
  /** A server whose stored outcomes expire after 1.5 s, sharing the database (the server itself accepts 5m at least). */
  let shortTtl: TestApp;
  let keyId: string;
  let walletId: string;
  /** A pending hold for each run of confirmHold and voidHold, by key. */
  const holds: Record<string, string> = {};
  /** Per test key: an identity of its own (createCard), or a card of its own (setCardStatus). */
  const identities: Record<string, string> = {};
  const cards: Record<string, { cardId: string; identityId: string }> = {};
  /** Per test key: a reserved order of its own (createPaymentAttempt), a payment of its own (createRefund). */
  const orders: Record<string, string> = {};
  const payments: Record<string, string> = {};
  let otherWalletId: string;

  beforeAll(async () => {
    database = await createPostgresDatabase();
    issuer = await startTestIssuer();
    const config = { issuerUrl: issuer.url };
    servers = [await startTestApp({ databaseUrl: database.url, config }), await startTestApp({ databaseUrl: database.url, config })];
    shortTtl = await startTestApp({ databaseUrl: database.url, config: { ...config, idempotencyTtlMs: 1_500 } });
    const created = await servers[0]!.gql(CREATE_KEY, { input: { clientMutationId: "setup", name: "to-update" } });
    keyId = created.body.data.createKey.key.id;
    walletId = await newWallet(servers[0]!);
    await credit(servers[0]!, walletId, 1_000_000);
    for (const key of ["confirmHold-seq", "confirmHold-par", "confirmHold-ttl", "voidHold-seq", "voidHold-par", "voidHold-ttl"]) {
      const debit = await servers[0]!
        .sdk()
        .DebitWallet({ input: { clientMutationId: `setup-${key}`, walletId, amount: money(100), pending: true } });
      holds[key] = as(debit.data.debitWallet, "DebitWalletPayload").hold!.id;
    }
    const sdk = servers[0]!.sdk();
    const identityFor = async (name: string) => {
      const identity = await sdk.CreateIdentity({ input: { externalId: `holder-${name}` } });
      if (identity.data.createIdentity?.__typename !== "CreateIdentityPayload") throw new Error("setup failed");
      return identity.data.createIdentity.identity.id;
    };
    for (const key of ["createCard-seq", "createCard-par", "createCard-ttl"]) {
      identities[key] = await identityFor(key);
      identities[`${key}-other`] = await identityFor(`${key}-other`);
    }
    for (const key of ["setCardStatus-seq", "setCardStatus-par", "setCardStatus-ttl"]) {
      const identityId = await identityFor(key);
      const card = await sdk.CreateCard({ input: { identityId } });
      if (card.data.createCard?.__typename !== "CreateCardPayload") throw new Error("setup failed");
      cards[key] = { cardId: card.data.createCard.card.id, identityId };
    }
    otherWalletId = await newWallet(servers[0]!);
    await credit(servers[0]!, otherWalletId, 1_000_000);
    await newProduct(servers[0]!, { sku: "shop-item", stock: 1_000, price: 100 });
    for (const mutation of ["adjustInventory", "createInventoryReservation"]) {
      for (const key of [`${mutation}-seq`, `${mutation}-par`, `${mutation}-ttl`]) {
        await newProduct(servers[0]!, { sku: `item-${key}`, stock: 100 });
      }
    }
    for (const key of [
      "createPaymentAttempt-seq",
      "createPaymentAttempt-par",
      "createPaymentAttempt-ttl",
      "createRefund-seq",
      "createRefund-par",
      "createRefund-ttl",
    ]) {
      orders[key] = (await newOrder(servers[0]!, [{ sku: "shop-item", quantity: 1 }])).id;
    }
    for (const key of ["createRefund-seq", "createRefund-par", "createRefund-ttl"]) {
      const paid = await sdk.CreatePaymentAttempt({ input: { orderId: orders[key]!, walletId } });
      payments[key] = as(paid.data.createPaymentAttempt, "CreatePaymentAttemptPayload").payment.id;
    }
  });
  afterEach(() => expectLedgerSound(servers[0]!.db));
  afterAll(async () => {
    await Promise.all([...(servers ?? []), shortTtl].map((server) => server?.close()));
    await issuer?.close();
    await database?.drop();
  });

  const prisma = () => servers[0]!.db.prisma;
  const money = (value: number) => ({ asset: USD, value: String(value) });
  const taggedTransactions = (key: string) => prisma().ledgerTransaction.count({ where: { metadata: { path: ["key"], equals: key } } });
  const cases = [
    {
      mutation: "createIdentity",
      operation: CREATE_IDENTITY,
      input: (key: string) => ({ clientMutationId: key, externalId: `ext-${key}` }),
      other: (key: string) => ({ clientMutationId: key, externalId: `other-${key}` }),
      effects: (key: string) => prisma().identity.count({ where: { externalId: { in: [`ext-${key}`, `other-${key}`] } } }),
    },
    {
      mutation: "createKey",
      operation: CREATE_KEY,
      input: (key: string) => ({ clientMutationId: key, name: `key-${key}`, externalId: `owner-${key}` }),
      other: (key: string) => ({ clientMutationId: key, name: `other-${key}` }),
      effects: async (key: string) =>
        (await prisma().apiKey.count({ where: { name: { in: [`key-${key}`, `other-${key}`] } } })) +
        (await prisma().identity.count({ where: { externalId: `owner-${key}` } })),
    },
    {
      mutation: "updateKey",
      operation: UPDATE_KEY,
      input: (key: string) => ({ clientMutationId: key, keyId, externalId: `attach-${key}` }),
      other: (key: string) => ({ clientMutationId: key, keyId, name: `other-${key}` }),
      effects: async (key: string) =>
        (await prisma().identity.count({ where: { externalId: `attach-${key}` } })) +
        (await prisma().apiKey.count({ where: { name: `other-${key}` } })),
    },
    {
      mutation: "createWallet",
      operation: print(CreateWalletDocument),
      input: (key: string) => ({ clientMutationId: key, name: `wallet-${key}` }),
      other: (key: string) => ({ clientMutationId: key, name: `other-${key}` }),
      effects: (key: string) => prisma().wallet.count({ where: { name: { in: [`wallet-${key}`, `other-${key}`] } } }),
    },
    {
      mutation: "createBalance",
      operation: print(CreateBalanceDocument),
      input: (key: string) => ({ clientMutationId: key, walletId, name: `b-${key}` }),
      other: (key: string) => ({ clientMutationId: key, walletId, name: `b-${key}`, priority: 3 }),
      effects: (key: string) => prisma().walletBalance.count({ where: { walletId, name: `b-${key}` } }),
    },
    {
      mutation: "creditWallet",
      operation: print(CreditWalletDocument),
      input: (key: string) => ({ clientMutationId: key, walletId, amount: money(10), metadata: { key } }),
      other: (key: string) => ({ clientMutationId: key, walletId, amount: money(11), metadata: { key } }),
      effects: taggedTransactions,
    },
    {
      mutation: "debitWallet",
      operation: print(DebitWalletDocument),
      input: (key: string) => ({ clientMutationId: key, walletId, amount: money(10), balances: ["*"], metadata: { key } }),
      other: (key: string) => ({ clientMutationId: key, walletId, amount: money(10), pending: true, metadata: { key } }),
      effects: taggedTransactions,
    },
    {
      mutation: "confirmHold",
      operation: print(ConfirmHoldDocument),
      input: (key: string) => ({ clientMutationId: key, holdId: holds[key]!, amount: "40" }),
      other: (key: string) => ({ clientMutationId: key, holdId: holds[key]!, amount: "40", final: true }),
      effects: (key: string) => prisma().ledgerTransaction.count({ where: { holdId: holds[key]!, kind: "CONFIRM" } }),
    },
    {
      mutation: "voidHold",
      operation: print(VoidHoldDocument),
      input: (key: string) => ({ clientMutationId: key, holdId: holds[key]! }),
      other: (key: string) => ({ clientMutationId: key, holdId: holds[key === "voidHold-seq" ? "voidHold-par" : "voidHold-seq"]! }),
      effects: (key: string) => prisma().ledgerTransaction.count({ where: { holdId: holds[key]!, kind: "VOID" } }),
    },
    {
      mutation: "createCard",
      operation: print(CreateCardDocument),
      input: (key: string) => ({ clientMutationId: key, identityId: identities[key] }),
      other: (key: string) => ({ clientMutationId: key, identityId: identities[`${key}-other`] }),
      // Cards in the database, when the issuer holds exactly as many for those identities.
      effects: async (key: string) => {
        const holders = [identities[key]!, identities[`${key}-other`]!];
        const held = await prisma().card.count({ where: { identityId: { in: holders } } });
        return held === holders.flatMap((holder) => issuer.cardsOf(holder)).length ? held : Number.NaN;
      },
    },
    {
      mutation: "setCardStatus",
      operation: print(SetCardStatusDocument),
      input: (key: string) => ({ clientMutationId: key, cardId: cards[key]!.cardId, status: "FROZEN" }),
      other: (key: string) => ({ clientMutationId: key, cardId: cards[key]!.cardId, status: "DELETED" }),
      // The card frozen, here and at the issuer; never deleted.
      effects: async (key: string) => {
        const { cardId, identityId } = cards[key]!;
        const held = await prisma().card.findFirstOrThrow({ where: { id: cardId } });
        const atIssuer = issuer.cardsOf(identityId).find((card) => card.id === cardId);
        return held.status === "FROZEN" && atIssuer?.status === "FROZEN" ? 1 : 0;
      },
    },
    {
      mutation: "createProduct",
      operation: print(CreateProductDocument),
      input: (key: string) => ({ clientMutationId: key, sku: `new-${key}`, name: key, price: money(100), stock: 5 }),
      other: (key: string) => ({ clientMutationId: key, sku: `new-${key}`, name: key, price: money(100), stock: 6 }),
      effects: (key: string) => prisma().product.count({ where: { sku: `new-${key}` } }),
    },
    {
      mutation: "adjustInventory",
      operation: print(AdjustInventoryDocument),
      input: (key: string) => ({ clientMutationId: key, sku: `item-${key}`, delta: 5 }),
      other: (key: string) => ({ clientMutationId: key, sku: `item-${key}`, delta: -5 }),
      // Adjustments recorded, when the product moved by exactly one of them.
      effects: async (key: string) => {
        const product = await prisma().product.findFirstOrThrow({ where: { sku: `item-${key}` }, include: { adjustments: true } });
        return product.stock === 100 + product.adjustments.length * 5 ? product.adjustments.length : Number.NaN;
      },
    },
    {
      mutation: "createInventoryReservation",
      operation: print(CreateInventoryReservationDocument),
      input: (key: string) => ({ clientMutationId: key, sku: `item-${key}`, quantity: 2 }),
      other: (key: string) => ({ clientMutationId: key, sku: `item-${key}`, quantity: 3 }),
      effects: async (key: string) => {
        const product = await prisma().product.findFirstOrThrow({ where: { sku: `item-${key}` }, include: { reservations: true } });
        return product.reserved === product.reservations.length * 2 ? product.reservations.length : Number.NaN;
      },
    },
    {
      mutation: "createOrder",
      operation: print(CreateOrderDocument),
      input: (key: string) => ({ clientMutationId: key, lines: [{ sku: "shop-item", quantity: 1 }], customerExternalId: `buyer-${key}` }),
      other: (key: string) => ({ clientMutationId: key, lines: [{ sku: "shop-item", quantity: 2 }], customerExternalId: `buyer-${key}` }),
      effects: (key: string) => prisma().order.count({ where: { customer: { externalId: `buyer-${key}` } } }),
    },
    {
      mutation: "createPaymentAttempt",
      operation: print(CreatePaymentAttemptDocument),
      input: (key: string) => ({ clientMutationId: key, orderId: orders[key]!, walletId }),
      other: (key: string) => ({ clientMutationId: key, orderId: orders[key]!, walletId: otherWalletId }),
      // Payments of the order, when exactly one debit paid for it.
      effects: async (key: string) => {
        const debits = await prisma().ledgerTransaction.count({ where: { metadata: { path: ["orderId"], equals: orders[key]! } } });
        const paid = await prisma().payment.count({ where: { orderId: orders[key]! } });
        return debits === paid ? paid : Number.NaN;
      },
    },
    {
      mutation: "createRefund",
      operation: print(CreateRefundDocument),
      input: (key: string) => ({ clientMutationId: key, paymentId: payments[key]!, amount: money(10) }),
      other: (key: string) => ({ clientMutationId: key, paymentId: payments[key]!, amount: money(11) }),
      effects: async (key: string) => {
        const refunds = await prisma().refund.count({ where: { paymentId: payments[key]! } });
        const payment = await prisma().payment.findFirstOrThrow({ where: { id: payments[key]! } });
        return payment.refunded === BigInt(refunds * 10) ? refunds : Number.NaN;
      },
    },
    {
      mutation: "checkout",
      operation: print(CheckoutDocument),
      input: (key: string) => ({
        clientMutationId: key,
        walletId,
        lines: [{ sku: "shop-item", quantity: 1 }],
        customerExternalId: `payer-${key}`,
      }),
      other: (key: string) => ({
        clientMutationId: key,
        walletId,
        lines: [{ sku: "shop-item", quantity: 2 }],
        customerExternalId: `payer-${key}`,
      }),
      // Orders of the customer, when exactly one debit paid for them.
      effects: async (key: string) => {
        const placed = await prisma().order.findMany({ where: { customer: { externalId: `payer-${key}` }, status: "PAID" } });
        const debits = await prisma().ledgerTransaction.count({
          where: { metadata: { path: ["orderId"], equals: placed[0]?.id ?? "none" } },
        });
        return debits === placed.length ? placed.length : Number.NaN;
      },
    },
  ];

  describe.each(cases)("$mutation", ({ mutation, operation, input, other, effects }) => {
    it("replays with identical data, and refuses the key with another input", async () => {
      const key = `${mutation}-seq`;
      const first = await servers[0]!.gql(operation, { input: input(key) });
      const replay = await servers[1]!.gql(operation, { input: input(key) }, { token: servers[0]!.token });
      expect(first.body.data[mutation].__typename).toMatch(/Payload$/);
      expect(replay.body.data).toEqual(first.body.data);
      expect(replay.body.extensions.idempotency[0].status).toBe("REPLAYED");
      const reused = await servers[1]!.gql(operation, { input: other(key) }, { token: servers[0]!.token });
      expect(reused.body.errors[0].extensions.code).toBe("IDEMPOTENCY_KEY_REUSED");
      expect(await effects(key)).toBe(mutation === "createKey" ? 2 : 1);
    });

    it("20 duplicates at once on two servers: one execution, 20 identical answers, one effect", async () => {
      const key = `${mutation}-par`;
      const responses = await Promise.all(
        Array.from({ length: 20 }, (_, i) => servers[i % 2]!.gql(operation, { input: input(key) }, { token: servers[0]!.token })),
      );
      for (const response of responses) expect(response.body.data).toEqual(responses[0]!.body.data);
      expect(responses.filter((r) => r.body.extensions.idempotency[0].status === "EXECUTED")).toHaveLength(1);
      expect(await effects(key)).toBe(mutation === "createKey" ? 2 : 1);
    });
  });

  describe("past the TTL", () => {
    /** Each mutation's first answer, from the short-TTL server, by mutation; expired and swept before the tests below. */
    const firsts: Record<string, Awaited<ReturnType<TestApp["gql"]>>> = {};
    /** Set values, so they may run again: updating a row is not a row of its own to find. */
    const byValue = new Set(["updateKey", "setCardStatus"]);

    beforeAll(async () => {
      for (const { mutation, operation, input } of cases) {
        firsts[mutation] = await shortTtl.gql(operation, { input: input(`${mutation}-ttl`) }, { token: servers[0]!.token });
        expect(firsts[mutation]!.body.data[mutation].__typename, JSON.stringify(firsts[mutation]!.body)).toMatch(/Payload$/);
      }
      await sleep(1_600);
      await shortTtl.app.sweep();
      const keys = cases.map(({ mutation }) => `${mutation}-ttl`);
      expect(await prisma().idempotencyRecord.count({ where: { clientMutationId: { in: keys } } })).toBe(0);
    });

    describe.each(cases)("$mutation", ({ mutation, operation, input, other, effects }) => {
      const key = `${mutation}-ttl`;
      const again = (variables: Record<string, unknown>, server = servers[1]!) =>
        server.gql(operation, { input: variables }, { token: servers[0]!.token });

      it("the same input: no second effect; it answers with what the first made, and says it did not run again", async () => {
        const first = firsts[mutation]!;
        const late = await again(input(key));
        expect(late.body.errors, JSON.stringify(late.body.errors)).toBeUndefined();
        expect(await effects(key)).toBe(mutation === "createKey" ? 2 : 1);
        if (byValue.has(mutation)) {
          expect(late.body.extensions.idempotency[0].status).toBe("EXECUTED");
          expect(late.body.data[mutation].__typename).toBe(first.body.data[mutation].__typename);
        } else if (mutation === "createKey") {
          // Its secret was kept only as a hash: the answer names the key, and cannot show the secret.
          expect(late.body.extensions.idempotency[0].status).toBe("REPLAYED");
          expect(late.body.data.createKey).toMatchObject({ __typename: "SecretNotKeptError", code: "SECRET_NOT_KEPT" });
        } else {
          expect(late.body.extensions.idempotency[0].status).toBe("REPLAYED");
          expect(late.body.data).toEqual(first.body.data);
        }
        // From now on it is stored again, and replayed as any outcome is.
        const replay = await again(input(key));
        expect(replay.body.extensions.idempotency[0].status).toBe("REPLAYED");
        expect(replay.body.data).toEqual(late.body.data);
      });

      it("another input: a new operation with ids of its own, or IDEMPOTENCY_KEY_REUSED; never the first one's answer", async () => {
        const first = firsts[mutation]!;
        // The record the same input stored just now expires too, as the first one's did (on a
        // server that has not cached it).
        await prisma().idempotencyRecord.deleteMany({ where: { clientMutationId: key } });
        const late = await again(other(key), servers[0]!);
        if (late.body.errors) {
          expect(late.body.errors[0].extensions.code).toBe("IDEMPOTENCY_KEY_REUSED");
          return;
        }
        expect(late.body.extensions.idempotency[0].status).toBe("EXECUTED");
        expect(late.body.data).not.toEqual(first.body.data);
      });
    });
  });
});
