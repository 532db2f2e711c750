import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { USD } from "../helpers/wallets.ts";

/**
 * What the BigInt scalar takes, and how it says no. Variables are sent as JSON text, so that
 * 1e400 or 9007199254740993 reach the server as a client would write them.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const RULE = 'A BigInt is an integer, sent as a decimal string such as "-1234" (an optional minus sign and 1–30 digits) or an integer: ';
const CREATE_PRODUCT = /* GraphQL */ `
  mutation CreateProduct($input: CreateProductInput!) {
    createProduct(input: $input) {
      __typename
      ... on CreateProductPayload { product { id sku price { value } } }
      ... on UserError { code message }
    }
  }
`;

/** createProduct with `price.value` written as this JSON text. */
async function withPriceJson(valueJson: string, key: string) {
  const input = `{"clientMutationId":"${key}","sku":"${key}","name":"bigint","stock":1,"price":{"asset":"${USD}","value":${valueJson}}}`;
  const response = await t.fetch("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json", authorization: `Bearer ${t.token}` },
    body: `{"query":${JSON.stringify(CREATE_PRODUCT)},"variables":{"input":${input}}}`,
  });
  return { status: response.status, body: await response.json() };
}

/** createProduct with `price.value` written as this GraphQL literal. */
const withPriceLiteral = (literal: string, key: string) =>
  t.gql(
    `mutation { createProduct(input: { clientMutationId: "${key}", sku: "${key}", name: "bigint", stock: 1, price: { asset: "${USD}", value: ${literal} } }) {
      __typename ... on CreateProductPayload { product { id sku price { value } } } ... on UserError { code message } } }`,
  );

describe("refused, saying what a BigInt is", () => {
  it.each([
    ["1e400", "this JSON number is too large to be read at all (such as 1e400); send it as a decimal string."],
    ["-1e400", "this JSON number is too large to be read at all (such as 1e400); send it as a decimal string."],
    ["1.5", "1.5 is not an integer."],
    [
      "9007199254740992",
      "a JSON number past 2^53−1 (9007199254740992 as read) may have lost digits on the way; send it as a decimal string.",
    ],
    [
      "9007199254740993",
      "a JSON number past 2^53−1 (9007199254740992 as read) may have lost digits on the way; send it as a decimal string.",
    ],
    [
      "9223372036854775807",
      "a JSON number past 2^53−1 (9223372036854776000 as read) may have lost digits on the way; send it as a decimal string.",
    ],
    ['"0x10"', '"0x10" is not one (no spaces, +, exponent, fraction or 0x).'],
    ['" 1"', '" 1" is not one (no spaces, +, exponent, fraction or 0x).'],
    ['"1 "', '"1 " is not one (no spaces, +, exponent, fraction or 0x).'],
    ['"+1"', '"+1" is not one (no spaces, +, exponent, fraction or 0x).'],
    ['"1e3"', '"1e3" is not one (no spaces, +, exponent, fraction or 0x).'],
    ['"1.0"', '"1.0" is not one (no spaces, +, exponent, fraction or 0x).'],
    ['""', '"" is not one (no spaces, +, exponent, fraction or 0x).'],
    [
      `"${"1".repeat(31)}"`,
      `"${"1".repeat(31)}" is not one (no spaces, +, exponent, fraction or 0x).`.replace(`"${"1".repeat(31)}"`, `"${"1".repeat(31)}"`),
    ],
    ["true", "got a boolean."],
    ["[1]", "got a list."],
    ['{"a":1}', "got an object."],
  ])("a variable %s", async (json, detail) => {
    const { status, body } = await withPriceJson(json, "never");
    expect(status).toBe(400);
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0].message).toMatch(/^Variable "\$input" got invalid value .* at "input\.price\.value"; /);
    expect(body.errors[0].message.split('"; ')[1]).toBe(`${RULE}${detail}`);
    expect(await t.db.prisma.product.count({ where: { sku: "never" } })).toBe(0);
  });

  it.each([
    ["1e400", "1e400 is a float literal; write an integer literal or a decimal string."],
    ["1e3", "1e3 is a float literal; write 1000."],
    ["1.0", "1.0 is a float literal; write 1."],
    ["1.5", "1.5 is a float literal; write an integer literal or a decimal string."],
    ['"0x10"', '"0x10" is not one (no spaces, +, exponent, fraction or 0x).'],
    ["true", "got a boolean."],
    ["[1]", "got a list."],
    ["{ a: 1 }", "got an object."],
    ["USD", "got an enum value."],
  ])("a literal %s", async (literal, detail) => {
    const response = await withPriceLiteral(literal, "never");
    expect(response.status).toBe(400);
    expect(response.body.errors[0]).toMatchObject({ message: `${RULE}${detail}`, extensions: { code: "GRAPHQL_VALIDATION_FAILED" } });
  });
});

describe("every spelling of one value is one input", () => {
  it("10: a string, a JSON number (10, 1e1, 10.0), 010 as a string, an integer literal: replays of one another", async () => {
    const first = await withPriceJson('"10"', "spell-10");
    expect(first.body.data.createProduct).toMatchObject({ __typename: "CreateProductPayload", product: { price: { value: "10" } } });
    for (const json of ["10", "1e1", "1E1", "10.0", '"010"']) {
      const replay = await withPriceJson(json, "spell-10");
      expect(replay.body.extensions.idempotency[0].status, json).toBe("REPLAYED");
      expect(replay.body.data, json).toEqual(first.body.data);
    }
    for (const literal of ["10", '"10"', '"0010"']) {
      const replay = await withPriceLiteral(literal, "spell-10");
      expect(replay.body.extensions.idempotency[0].status, literal).toBe("REPLAYED");
      expect(replay.body.data, literal).toEqual(first.body.data);
    }
    const other = await withPriceJson("11", "spell-10");
    expect(other.body.errors[0].extensions).toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED", differingFields: ["price.value"] });
  });

  it("0: -0 as a JSON number, a string or a literal, and 000, are 0", async () => {
    const first = await withPriceJson("0", "spell-0");
    expect(first.body.data.createProduct.product.price.value).toBe("0");
    for (const json of ["-0", '"-0"', '"000"', "0.0"]) {
      expect((await withPriceJson(json, "spell-0")).body.extensions.idempotency[0].status, json).toBe("REPLAYED");
    }
    expect((await withPriceLiteral("-0", "spell-0")).body.extensions.idempotency[0].status).toBe("REPLAYED");
  });
});

describe("taken exactly", () => {
  it("2^53−1 as a JSON number, and 2^63−1 as a string", async () => {
    const safe = await withPriceJson("9007199254740991", "exact-2-53");
    expect(safe.body.data.createProduct.product.price.value).toBe("9007199254740991");
    const max = await withPriceJson('"9223372036854775807"', "exact-2-63");
    expect(max.body.data.createProduct.product.price.value).toBe("9223372036854775807");
    const over = await withPriceLiteral("9223372036854775808", "exact-over");
    expect(over.body.data.createProduct).toMatchObject({ __typename: "InvalidInputError", code: "INVALID_INPUT" });
  });
});

it("a number too large for JSON in a JSON field: BAD_USER_INPUT naming where, nothing run", async () => {
  const query = "mutation($input: CreateIdentityInput!) { createIdentity(input: $input) { __typename } }";
  const response = await t.fetch("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json", authorization: `Bearer ${t.token}` },
    body: `{"query":${JSON.stringify(query)},"variables":{"input":{"clientMutationId":"json-inf","externalId":"json-inf","meta":{"a":[1,-1e400]}}}}`,
  });
  const body = await response.json();
  expect(body.data.createIdentity).toEqual({ __typename: "InvalidInputError" });
  expect(await t.db.prisma.idempotencyRecord.count({ where: { clientMutationId: "json-inf" } })).toBe(0);
  expect(await t.db.prisma.identity.count({ where: { externalId: "json-inf" } })).toBe(0);
});
