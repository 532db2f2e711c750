import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { newWallet } from "../helpers/wallets.ts";

/**
 * A DateTime input is taken to the millisecond, as it is stored (timestamptz(3)), and no finer: a
 * finer instant is refused rather than read as the millisecond below it, which another input
 * means. Every spelling of one instant is one input.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const CREATE_KEY = /* GraphQL */ `
  mutation CreateKey($input: CreateKeyInput!) {
    createKey(input: $input) { __typename ... on CreateKeyPayload { key { id expiresAt } } ... on UserError { code message } }
  }
`;
const createKey = (key: string, expiresAt: string) => t.gql(CREATE_KEY, { input: { clientMutationId: key, name: key, expiresAt } });

const RULE = "A DateTime is kept to the millisecond";

describe("finer than a millisecond is refused, and changes nothing", () => {
  it("in a variable: createKey and createBalance", async () => {
    const key = await createKey("sub-ms", "2031-01-01T00:00:00.0009Z");
    expect(key.status).toBe(400);
    expect(key.body.errors[0].message).toBe(
      `Variable "$input" got invalid value "2031-01-01T00:00:00.0009Z" at "input.expiresAt"; ${RULE}: "2031-01-01T00:00:00.0009Z" is finer (4 digits of a second); send at most 3.`,
    );
    expect(await t.db.prisma.apiKey.count({ where: { name: "sub-ms" } })).toBe(0);

    const walletId = await newWallet(t);
    const balance = await t.gql("mutation($input: CreateBalanceInput!) { createBalance(input: $input) { __typename } }", {
      input: { clientMutationId: "sub-ms-balance", walletId, name: "later", expiresAt: "2031-01-01T00:00:00.123456789+02:00" },
    });
    expect(balance.status).toBe(400);
    expect(balance.body.errors[0].message).toContain(`${RULE}: "2031-01-01T00:00:00.123456789+02:00" is finer (9 digits of a second)`);
    expect(await t.db.prisma.walletBalance.count({ where: { walletId, name: "later" } })).toBe(0);
    expect(await t.db.prisma.idempotencyRecord.count({ where: { clientMutationId: { in: ["sub-ms", "sub-ms-balance"] } } })).toBe(0);
  });

  it("in a literal", async () => {
    const response = await t.gql(
      `mutation { createKey(input: { clientMutationId: "sub-ms-literal", expiresAt: "2031-01-01T00:00:00.0001Z" }) { __typename } }`,
    );
    expect(response.status).toBe(400);
    expect(response.body.errors[0]).toMatchObject({
      message: `${RULE}: "2031-01-01T00:00:00.0001Z" is finer (4 digits of a second); send at most 3.`,
      extensions: { code: "GRAPHQL_VALIDATION_FAILED" },
    });
    expect(await t.db.prisma.idempotencyRecord.count({ where: { clientMutationId: "sub-ms-literal" } })).toBe(0);
  });

  it("a key first used at .000 does not replay for .0009: that is refused, not taken as the same input", async () => {
    const first = await createKey("ms-then-finer", "2031-01-01T00:00:00.000Z");
    expect(first.body.data.createKey.__typename).toBe("CreateKeyPayload");
    const finer = await createKey("ms-then-finer", "2031-01-01T00:00:00.0009Z");
    expect(finer.status).toBe(400);
    expect(finer.body.extensions?.idempotency).toBeUndefined();
    expect(finer.headers.get("idempotent-replayed")).toBeNull();
  });
});

describe("one instant, one input", () => {
  it("Z, z, t, +00:00, -00:00, +01:00 an hour later and .000000 are one instant: replays of one another", async () => {
    const first = await createKey("one-instant", "2031-06-01T12:00:00.000Z");
    expect(first.body.data.createKey.key.expiresAt).toBe("2031-06-01T12:00:00.000Z");
    for (const spelling of [
      "2031-06-01T12:00:00Z",
      "2031-06-01t12:00:00z",
      "2031-06-01T12:00:00+00:00",
      "2031-06-01T12:00:00-00:00",
      "2031-06-01T13:00:00+01:00",
      "2031-06-01T12:00:00.000000Z",
    ]) {
      const replay = await createKey("one-instant", spelling);
      expect(replay.body.extensions.idempotency[0].status, spelling).toBe("REPLAYED");
      expect(replay.body.data, spelling).toEqual(first.body.data);
    }
    const other = await createKey("one-instant", "2031-06-01T12:00:00.001Z");
    expect(other.body.errors[0].extensions).toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED", differingFields: ["expiresAt"] });
  });
});
