import { randomUUID } from "node:crypto";
import { type GraphQLInputObjectType, type GraphQLInputType, getNamedType } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newOrder, newProduct } from "../helpers/commerce.ts";
import { startTestIssuer, type TestIssuer } from "../helpers/issuer.ts";
import { argumentsOf, idQueries, mutationsWithIds, sample, selectAll, variablesOf } from "../helpers/schema-walk.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { as } from "../helpers/typed.ts";
import { balancesOf, credit, expectLedgerSound, newWallet, USD } from "../helpers/wallets.ts";

/**
 * One UUID, many spellings: upper case (Swift's `UUID().uuidString`), no hyphens, braces. Every
 * ID argument of the schema, found by walking it, is sent each way: the answer is the same, a
 * retry that spells an id otherwise replays (one input), and no answer ever holds a spelling
 * other than the canonical one (lower case, hyphenated), so neither did anything downstream.
 */
const spellings: Record<string, (id: string) => string> = {
  "upper case": (id) => id.toUpperCase(),
  "no hyphens": (id) => id.replaceAll("-", ""),
  "braces, upper case": (id) => `{${id.toUpperCase()}}`,
};

let t: TestApp;
let issuer: TestIssuer;
/** A row of each kind an ID names, by input field name and by the type a query answers. */
const fixtures: Record<string, string> = {};

beforeAll(async () => {
  issuer = await startTestIssuer();
  t = await startTestApp({ config: { issuerUrl: issuer.url } });
  const sdk = t.sdk();
  fixtures.walletId = await newWallet(t);
  await credit(t, fixtures.walletId, 1_000_000);
  const debit = await sdk.DebitWallet({
    input: { clientMutationId: "fixture-hold", walletId: fixtures.walletId, amount: { asset: USD, value: "5000" }, pending: true },
  });
  const paid = as(debit.data.debitWallet, "DebitWalletPayload");
  fixtures.holdId = paid.hold!.id;
  fixtures.transactionId = paid.transaction.id;
  const identity = await sdk.CreateIdentity({ input: { clientMutationId: "fixture-identity", externalId: "spelled" } });
  fixtures.identityId = as(identity.data.createIdentity, "CreateIdentityPayload").identity.id;
  const key = await sdk.CreateKey({ input: { clientMutationId: "fixture-key", name: "spelled" } });
  fixtures.keyId = as(key.data.createKey, "CreateKeyPayload").key.id;
  const cardHolder = await sdk.CreateIdentity({ input: { clientMutationId: "fixture-holder", externalId: "card-holder" } });
  const card = await sdk.CreateCard({
    input: { identityId: as(cardHolder.data.createIdentity, "CreateIdentityPayload").identity.id },
  });
  fixtures.cardId = as(card.data.createCard, "CreateCardPayload").card.id;
  await newProduct(t, { sku: "spelled-item", stock: 1_000, price: 10 });
  fixtures.orderId = (await newOrder(t, [{ sku: "spelled-item", quantity: 1 }])).id;
  const payment = await sdk.CreatePaymentAttempt({ input: { orderId: fixtures.orderId, walletId: fixtures.walletId } });
  fixtures.paymentId = as(payment.data.createPaymentAttempt, "CreatePaymentAttemptPayload").payment.id;
  // A second order for the attempts below, which pay it (or find it paid) in every spelling.
  fixtures.unpaidOrderId = (await newOrder(t, [{ sku: "spelled-item", quantity: 1 }])).id;
  Object.assign(fixtures, {
    Wallet: fixtures.walletId,
    Hold: fixtures.holdId,
    Transaction: fixtures.transactionId,
    Identity: fixtures.identityId,
    ApiKey: fixtures.keyId,
    Card: fixtures.cardId,
    Order: fixtures.orderId,
  });
});
afterAll(async () => {
  await t?.close();
  await issuer?.close();
});

/** The answer holds no id in any spelling but the canonical one. */
function expectCanonical(text: string) {
  for (const id of Object.values(fixtures)) {
    for (const spell of Object.values(spellings)) expect(text).not.toContain(spell(id));
  }
  expect(text).not.toMatch(/[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}/);
}

/** Valid values for the input fields that a sample would get wrong, by name and type. */
const inputValues: Record<string, unknown> = {
  "amount: MoneyInput!": { asset: USD, value: "1" },
  "lines: [OrderLineInput!]!": [{ sku: "spelled-item", quantity: 1 }],
  "name: String!": "spelled",
  "status: CardStatus!": "FROZEN",
};

describe("an id in another spelling is the same id", () => {
  it("finds the ID arguments (the walk itself works)", () => {
    expect(idQueries.map((query) => query.name)).toEqual(expect.arrayContaining(["wallet(id)", "card(id)", "order(id)"]));
    expect(mutationsWithIds.map((mutation) => mutation.name)).toEqual(
      expect.arrayContaining(["createCard", "creditWallet", "checkout", "createPaymentAttempt", "createRefund"]),
    );
  });

  it.each(idQueries)("query $name: the same answer in every spelling", async ({ field, arg }) => {
    const id = fixtures[getNamedType(field.type).name];
    expect(id, `a fixture for ${getNamedType(field.type).name}`).toBeDefined();
    const query = `query (${variablesOf(field)}) { ${field.name}(${argumentsOf(field)}) ${selectAll(field.type)} }`;
    const ask = (spelled: string) =>
      t.gql(query, Object.fromEntries(field.args.map((a) => [a.name, a.name === arg ? spelled : sample(a.type)])));
    const canonical = await ask(id!);
    expect(canonical.body.errors).toBeUndefined();
    expect(canonical.body.data[field.name]).not.toBeNull();
    for (const spell of Object.values(spellings)) {
      const spelled = await ask(spell(id!));
      expect(spelled.body).toEqual(canonical.body);
    }
  });

  it.each(mutationsWithIds)("mutation $name: first sent in upper case, then replayed in every spelling", async ({ field, ids }) => {
    const key = `spelled-${field.name}-${randomUUID()}`;
    const inputType = field.args[0]!.type;
    const base = { ...(sample(inputType) as object), ...valuesFor(inputType), clientMutationId: key };
    const withIds = (spell: (id: string) => string) =>
      Object.assign({ ...base }, Object.fromEntries(ids.map((name) => [name, spell(idFor(field.name, name))])));
    const mutation = `mutation ($input: ${inputType}) { ${field.name}(input: $input) ${selectAll(field.type)} }`;
    const first = await t.gql(mutation, { input: withIds((id) => id.toUpperCase()) });
    expect(first.body.errors).toBeUndefined();
    expect(first.body.extensions.idempotency[0].status).toBe("EXECUTED");
    expectCanonical(first.text);
    for (const spell of [(id: string) => id, ...Object.values(spellings)]) {
      const again = await t.gql(mutation, { input: withIds(spell) });
      expect(again.body.errors).toBeUndefined();
      expect(again.body.extensions.idempotency[0].status).toBe("REPLAYED");
      expect(again.body.data).toEqual(first.body.data);
    }
    const record = await t.db.prisma.idempotencyRecord.findFirstOrThrow({ where: { clientMutationId: key } });
    expectCanonical(`${record.input} ${record.encrypted ? "" : record.outcome}`);
  });

  it("the card issuer knows an identity by one id: a card created through another spelling is the same holder's", async () => {
    const sdk = t.sdk();
    const identity = await sdk.CreateIdentity({ input: { externalId: "swift-user" } });
    const identityId = as(identity.data.createIdentity, "CreateIdentityPayload").identity.id;
    const created = await sdk.CreateCard({ input: { identityId: identityId.toUpperCase() } });
    const card = as(created.data.createCard, "CreateCardPayload").card;
    expect(issuer.cardsOf(identityId).map((c) => c.id)).toEqual([card.id]);
    expect(issuer.cardsOf(identityId.toUpperCase())).toEqual([]);
    // Lower case now finds the same ACTIVE card, rather than asking the issuer for another.
    const again = await sdk.CreateCard({ input: { identityId } });
    expect(as(again.data.createCard, "CreateCardPayload").card.id).toBe(card.id);
    expect(issuer.cardsOf(identityId)).toHaveLength(1);
  });

  it("a wallet credited through two spellings has one account per balance, and its funds can all be spent", async () => {
    const walletId = await newWallet(t);
    await credit(t, walletId.toUpperCase(), 400);
    await credit(t, walletId, 600);
    const { data } = await t.sdk().Wallet({ id: walletId });
    expect(data.wallet!.balances.find((balance) => balance.name === "main")!.available).toEqual([{ asset: USD, value: "1000" }]);
    const debit = await t.sdk().DebitWallet({ input: { walletId: walletId.replaceAll("-", ""), amount: { asset: USD, value: "1000" } } });
    as(debit.data.debitWallet, "DebitWalletPayload");
    expect(await balancesOf(t, walletId)).toEqual({ main: 0n });
    const accounts = await t.db.prisma.ledgerAccount.findMany({ where: { walletId } });
    expect(accounts.map((account) => account.address)).toEqual([`wallet:${walletId}:main`]);
    await expectLedgerSound(t.db);
  });

  it("checkout and a payment through another spelling of the wallet's id debit its one account", async () => {
    const walletId = await newWallet(t);
    await credit(t, walletId, 100);
    const order = await newOrder(t, [{ sku: "spelled-item", quantity: 1 }]);
    const paid = await t.sdk().CreatePaymentAttempt({ input: { orderId: order.id.toUpperCase(), walletId: walletId.toUpperCase() } });
    expect(as(paid.data.createPaymentAttempt, "CreatePaymentAttemptPayload").payment.status).toBe("SUCCEEDED");
    const checkout = await t
      .sdk()
      .Checkout({ input: { walletId: `{${walletId.toUpperCase()}}`, lines: [{ sku: "spelled-item", quantity: 2 }] } });
    as(checkout.data.checkout, "CheckoutPayload");
    expect(await balancesOf(t, walletId)).toEqual({ main: 70n });
    await expectLedgerSound(t.db);
  });
});

/** The fixture an id field of a mutation names. */
function idFor(mutation: string, field: string): string {
  if (mutation === "createPaymentAttempt" && field === "orderId") return fixtures.unpaidOrderId!;
  const id = fixtures[field];
  if (!id) throw new Error(`no fixture for ${mutation}(input.${field}): add one`);
  return id;
}

/** The values of `inputValues` for the fields this input type has. */
function valuesFor(inputType: GraphQLInputType): Record<string, unknown> {
  const fields = (getNamedType(inputType) as GraphQLInputObjectType).getFields();
  return Object.fromEntries(
    Object.values(fields).flatMap((field) => {
      const value = inputValues[`${field.name}: ${field.type}`];
      return value === undefined ? [] : [[field.name, value]];
    }),
  );
}
