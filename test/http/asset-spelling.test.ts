import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newOrder, newProduct } from "../helpers/commerce.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { balancesOf, credit, newWallet, USD } from "../helpers/wallets.ts";

/**
 * An asset has one spelling. The ledger keeps an account per asset text, so `USD/02` was an asset
 * of its own: 1000 of it could not pay a 100 `USD/2` order. A scale with a leading zero, or `/0`,
 * is refused, naming the field and the spelling to use, and nothing moves.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const ANSWER = "__typename ... on InvalidInputError { field } ... on UserError { code message }";

const creditIn = (walletId: string, key: string, asset: string) =>
  t.gql(`mutation($input: CreditWalletInput!) { creditWallet(input: $input) { ${ANSWER} } }`, {
    input: { clientMutationId: key, walletId, amount: { asset, value: "1000" } },
  });

describe("another spelling of an asset's scale is refused, naming the field and the spelling", () => {
  it.each([
    ["USD/02", "USD/2"],
    ["USD/002", undefined],
    ["JPY/0", "JPY"],
    ["USD/00", "USD"],
    ["BTC/08", "BTC/8"],
  ])("creditWallet in %s: nothing is credited", async (asset, canonical) => {
    const walletId = await newWallet(t);
    const { body } = await creditIn(walletId, `credit-${asset}`, asset);
    expect(body.data.creditWallet).toMatchObject({ __typename: "InvalidInputError", code: "INVALID_INPUT", field: "amount.asset" });
    expect(body.data.creditWallet.message).toBe(
      canonical
        ? `amount.asset is written ${canonical}, not ${asset}: one asset has one spelling`
        : `amount.asset must be an asset code such as USD/2 or POINTS (A–Z, 0–9, _; /decimals), got "${asset}"`,
    );
    expect(await t.db.prisma.ledgerAccount.count({ where: { asset } })).toBe(0);
    expect(await t.db.prisma.ledgerPosting.count({ where: { asset } })).toBe(0);
  });

  it("createProduct and debitWallet too", async () => {
    const product = await t.gql(`mutation($input: CreateProductInput!) { createProduct(input: $input) { ${ANSWER} } }`, {
      input: { clientMutationId: "product-02", sku: "spelled-02", name: "x", stock: 1, price: { asset: "USD/02", value: "100" } },
    });
    expect(product.body.data.createProduct).toMatchObject({ __typename: "InvalidInputError", field: "price.asset" });
    expect(await t.db.prisma.product.count({ where: { sku: "spelled-02" } })).toBe(0);

    const walletId = await newWallet(t);
    await credit(t, walletId, 1000);
    const debit = await t.gql(`mutation($input: DebitWalletInput!) { debitWallet(input: $input) { ${ANSWER} } }`, {
      input: { clientMutationId: "debit-02", walletId, amount: { asset: "USD/02", value: "100" } },
    });
    expect(debit.body.data.debitWallet).toMatchObject({ __typename: "InvalidInputError", field: "amount.asset" });
    expect(await balancesOf(t, walletId)).toEqual({ main: 1000n });
  });
});

describe("the one spelling", () => {
  it("USD/2, JPY, BTC/8 and X/18 are taken; 1000 USD/2 pays a 100 USD/2 order", async () => {
    const walletId = await newWallet(t);
    for (const asset of [USD, "JPY", "BTC/8", "X/18"]) {
      const { body } = await creditIn(walletId, `credit-ok-${asset}`, asset);
      expect(body.data.creditWallet.__typename, asset).toBe("CreditWalletPayload");
    }
    await newProduct(t, { sku: "one-spelling", stock: 1, price: 100 });
    const order = await newOrder(t, [{ sku: "one-spelling", quantity: 1 }]);
    const paid = await t.sdk().CreatePaymentAttempt({ input: { orderId: order.id, walletId } });
    expect(paid.data.createPaymentAttempt?.__typename).toBe("CreatePaymentAttemptPayload");
    expect(await balancesOf(t, walletId)).toEqual({ main: 900n });
  });
});
