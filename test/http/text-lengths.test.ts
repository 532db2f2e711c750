import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { as } from "../helpers/typed.ts";
import { USD } from "../helpers/wallets.ts";

/**
 * Lengths are counted in characters (Unicode code points), as the messages say and as PostgreSQL
 * counts text: an emoji is one character, not the two UTF-16 units JavaScript's `length` sees.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const EMOJI = "😀";
const createProduct = (name: string) =>
  t.sdk().CreateProduct({ input: { sku: `len-${name.length}-${[...name].length}`, name, price: { asset: USD, value: "1" }, stock: 1 } });

describe("a name of at most 200 characters", () => {
  it("128 emoji (256 UTF-16 units) are 128 characters: a product, stored and shown as sent", async () => {
    const name = EMOJI.repeat(128);
    const product = as((await createProduct(name)).data.createProduct, "CreateProductPayload").product;
    expect(product.name).toBe(name);
    const [row] = await t.db.prisma.$queryRaw<
      { characters: number }[]
    >`SELECT char_length(name) AS characters FROM products WHERE id = ${product.id}::uuid`;
    expect(row!.characters).toBe(128);
  });

  it("200 emoji are exactly the limit", async () => {
    expect((await createProduct(EMOJI.repeat(200))).data.createProduct?.__typename).toBe("CreateProductPayload");
  });

  it("201 emoji are INVALID_INPUT, saying 201 characters", async () => {
    const error = as((await createProduct(EMOJI.repeat(201))).data.createProduct, "InvalidInputError");
    expect(error).toMatchObject({ field: "name", message: "name must be 1–200 characters long, got 201" });
  });

  it("a combining accent is a character of its own, as PostgreSQL counts it", async () => {
    const error = as((await createProduct("e\u0301".repeat(101))).data.createProduct, "InvalidInputError");
    expect(error.message).toBe("name must be 1–200 characters long, got 202");
  });
});

describe("an externalId of at most 255 characters", () => {
  const createIdentity = (externalId: string) => t.sdk().CreateIdentity({ input: { externalId } });

  it("255 emoji: an identity, found again by the same externalId", async () => {
    const externalId = EMOJI.repeat(255);
    const identity = as((await createIdentity(externalId)).data.createIdentity, "CreateIdentityPayload").identity;
    expect(identity.externalId).toBe(externalId);
    expect(as((await createIdentity(externalId)).data.createIdentity, "IdentityAlreadyExistsError").externalId).toBe(externalId);
  });

  it("256 emoji: INVALID_INPUT, saying 256 characters", async () => {
    const error = as((await createIdentity(EMOJI.repeat(256))).data.createIdentity, "InvalidInputError");
    expect(error).toMatchObject({ field: "externalId", message: "externalId must be 1–255 characters long, got 256" });
  });
});

it("a clientMutationId of 200 emoji is refused for not being ASCII, never as 400 characters long", async () => {
  const response = await t.gql("mutation($input: CreateIdentityInput!) { createIdentity(input: $input) { __typename } }", {
    input: { clientMutationId: EMOJI.repeat(200), externalId: "emoji-key" },
  });
  expect(response.body.errors[0]).toMatchObject({
    message: "clientMutationId must be printable ASCII without spaces",
    extensions: { code: "IDEMPOTENCY_KEY_INVALID" },
  });
});
