import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CREATE_IDENTITY } from "../helpers/operations.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

/**
 * A JSON input (`meta`, `metadata`) keeps the numbers it is sent, or refuses them: a number that a
 * JSON parser would read as another number (9007199254740993 read as ...992) is an
 * InvalidInputError naming the field, whether it came in a variable or a literal, and nothing of
 * it is stored. Bodies are written as JSON text here, as a client would send them.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const HEADERS = { "content-type": "application/json", accept: "application/graphql-response+json" };

/** POSTs this JSON text as the body. */
async function post(body: string) {
  const response = await t.fetch("/graphql", { method: "POST", headers: { ...HEADERS, authorization: `Bearer ${t.token}` }, body });
  return { status: response.status, body: await response.json() };
}

/** createIdentity with `meta` written as this JSON text, in a variable. */
const withMeta = (key: string, metaJson: string) =>
  post(
    `{"query":${JSON.stringify(CREATE_IDENTITY)},"variables":{"input":{"clientMutationId":"${key}","externalId":"${key}","meta":${metaJson}}}}`,
  );

/** createIdentity with `meta` written as this GraphQL literal. */
const withMetaLiteral = (key: string, literal: string) =>
  t.gql(`mutation { createIdentity(input: { clientMutationId: "${key}", externalId: "${key}", meta: ${literal} }) {
    __typename ... on CreateIdentityPayload { identity { meta } } ... on InvalidInputError { field } ... on UserError { code message } } }`);

async function expectNothingOf(key: string) {
  expect(await t.db.prisma.identity.count({ where: { externalId: key } })).toBe(0);
  expect(await t.db.prisma.idempotencyRecord.count({ where: { clientMutationId: key } })).toBe(0);
}

describe("a JSON number read as another number is refused, naming the field, and changes nothing", () => {
  it.each([
    ['{"n":9007199254740993}', "meta.n", "9007199254740993", "9007199254740992"],
    ["9007199254740993", "meta", "9007199254740993", "9007199254740992"],
    ['{"list":[1,{"id":12345678901234567890}]}', "meta.list.1.id", "12345678901234567890", "12345678901234567000"],
    ['{"x":0.10000000000000000001}', "meta.x", "0.10000000000000000001", "0.1"],
    ['{"big":1e400}', "meta.big", "1e400", "Infinity"],
    ['{"tiny":-1e-400}', "meta.tiny", "-1e-400", "0"],
  ])("in a variable: %s", async (metaJson, path, sent, read) => {
    const key = `inexact-${path}-${sent}`;
    const { status, body } = await withMeta(key, metaJson);
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data.createIdentity).toEqual({
      __typename: "InvalidInputError",
      code: "INVALID_INPUT",
      field: "meta",
      message: `${path} holds the number ${sent}, which a JSON number cannot hold exactly (it reads as ${read}); send it as a string`,
    });
    await expectNothingOf(key);
  });

  it("in a literal", async () => {
    const response = await withMetaLiteral("inexact-literal", "{ a: [9007199254740993] }");
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data.createIdentity).toMatchObject({
      __typename: "InvalidInputError",
      field: "meta",
      message: expect.stringMatching(/^meta\.a\.0 holds the number 9007199254740993, .* \(it reads as 9007199254740992\)/),
    });
    await expectNothingOf("inexact-literal");
  });

  it("in a variable inside a literal input, and in one operation of a batch", async () => {
    const nested = await post(
      JSON.stringify({
        query: `mutation($meta: JSON) { createIdentity(input: { clientMutationId: "inexact-nested", externalId: "inexact-nested", meta: $meta }) {
          __typename ... on InvalidInputError { field message } } }`,
      }).replace(/}$/, ',"variables":{"meta":{"deep":[[9007199254740993]]}}}'),
    );
    expect(nested.body.data.createIdentity).toMatchObject({ __typename: "InvalidInputError", field: "meta" });
    expect(nested.body.data.createIdentity.message).toMatch(/^meta\.deep\.0\.0 holds/);
    await expectNothingOf("inexact-nested");

    const operation = (key: string, meta: string) =>
      `{"query":${JSON.stringify(CREATE_IDENTITY)},"variables":{"input":{"clientMutationId":"${key}","externalId":"${key}","meta":${meta}}}}`;
    const batch = await post(
      `[${operation("batch-exact", '{"n":9007199254740992}')},${operation("batch-inexact", '{"n":9007199254740993}')}]`,
    );
    expect(batch.body[0].data.createIdentity).toMatchObject({
      __typename: "CreateIdentityPayload",
      identity: { meta: { n: 9007199254740992 } },
    });
    expect(batch.body[1].data.createIdentity).toMatchObject({ __typename: "InvalidInputError", field: "meta" });
    await expectNothingOf("batch-inexact");
  });

  it("createWallet's metadata too", async () => {
    const query = `mutation($input: CreateWalletInput!) { createWallet(input: $input) { __typename ... on InvalidInputError { field } } }`;
    const { body } = await post(
      `{"query":${JSON.stringify(query)},"variables":{"input":{"clientMutationId":"wallet-inexact","name":"inexact","metadata":{"n":9007199254740993}}}}`,
    );
    expect(body.data.createWallet).toEqual({ __typename: "InvalidInputError", field: "metadata" });
    expect(await t.db.prisma.idempotencyRecord.count({ where: { clientMutationId: "wallet-inexact" } })).toBe(0);
  });
});

describe("two numbers are two inputs", () => {
  it("a key used with ...992 does not replay for ...993: that is refused, and ...992 is stored exactly", async () => {
    const first = await withMeta("neighbour", '{"n":9007199254740992}');
    expect(first.body.data.createIdentity.identity.meta).toEqual({ n: 9007199254740992 });
    const neighbour = await withMeta("neighbour", '{"n":9007199254740993}');
    expect(neighbour.body.data.createIdentity).toMatchObject({ __typename: "InvalidInputError", field: "meta" });
    expect(neighbour.body.extensions?.idempotency).toBeUndefined();
    const stored = await t.db.prisma.identity.findFirstOrThrow({ where: { externalId: "neighbour" } });
    expect(stored.meta).toEqual({ n: 9007199254740992 });
  });
});

describe("numbers that read exactly are kept", () => {
  it("0.1, 1.5, -2.5e-7, 1e300, 2^53 and 2^53-1 come back as the same numbers, and replay", async () => {
    const meta = '{"a":0.1,"b":1.5,"c":-2.5e-7,"d":1e300,"e":9007199254740992,"f":9007199254740991,"g":1.0,"h":1e2}';
    const first = await withMeta("exact-numbers", meta);
    expect(first.body.data.createIdentity.identity.meta).toEqual(JSON.parse(meta));
    const replay = await withMeta("exact-numbers", meta);
    expect(replay.body.extensions.idempotency[0].status).toBe("REPLAYED");
    expect(replay.body.data).toEqual(first.body.data);
  });

  it("digits inside strings are not numbers", async () => {
    const meta = '{"id":"9007199254740993","note":"1e400 \\" 0.10000000000000000001"}';
    const { body } = await withMeta("strings-kept", meta);
    expect(body.data.createIdentity.identity.meta).toEqual(JSON.parse(meta));
  });
});
