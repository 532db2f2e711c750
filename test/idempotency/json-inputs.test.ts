import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH } from "../../src/schema/validation.ts";
import { CREATE_IDENTITY, CREATE_KEY, UPDATE_KEY } from "../helpers/operations.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

/** JSON whose keys are JavaScript's special names, at every depth; built from text, as a request body would be. */
const SPECIAL = JSON.parse(
  '{"constructor":"Bob the builder","prototype":{"__proto__":{"constructor":{"prototype":1}}},"__proto__":{"polluted":true},' +
    '"toString":"not a function","hasOwnProperty":[{"__proto__":null,"valueOf":0}],"then":"not a promise","toJSON":"kept"}',
);

/** `meta` nested `depth` objects deep, as JSON text (JSON.stringify itself gives up long before 10,000). */
const nested = (depth: number) => `${'{"next":'.repeat(depth)}"bottom"${"}".repeat(depth)}`;
const createDeepIdentity = async (depth: number) => {
  const input = `{"clientMutationId":"deep-${depth}","externalId":"deep-${depth}","meta":${nested(depth)}}`;
  const response = await t.fetch("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${t.token}` },
    body: `{"query":${JSON.stringify(CREATE_IDENTITY)},"variables":{"input":${input}}}`,
  });
  const text = await response.text();
  return { text, body: JSON.parse(text) };
};

describe("any JSON the schema accepts", () => {
  it.each([
    ["createIdentity", CREATE_IDENTITY, { externalId: "special-keys" }],
    ["createKey", CREATE_KEY, { name: "special-keys" }],
  ])(
    "%s stores keys named constructor, prototype or __proto__ at any depth, and replays them byte for byte",
    async (field, operation, rest) => {
      const input = { clientMutationId: `special-${field}`, ...rest, meta: SPECIAL };
      const first = await t.gql(operation, { input });
      const replay = await t.gql(operation, { input });
      expect(first.body.errors).toBeUndefined();
      expect(first.body.data[field].__typename).toMatch(/Payload$/);
      const meta = (field === "createKey" ? first.body.data[field].key : first.body.data[field].identity).meta;
      expect(meta).toEqual(SPECIAL);
      expect(JSON.stringify(replay.body.data)).toBe(JSON.stringify(first.body.data));
      expect(replay.body.extensions.idempotency[0].status).toBe("REPLAYED");
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    },
  );

  it("updateKey too", async () => {
    const created = await t.gql(CREATE_KEY, { input: { clientMutationId: "special-update-0" } });
    const input = { clientMutationId: "special-update-1", keyId: created.body.data.createKey.key.id, meta: SPECIAL };
    const first = await t.gql(UPDATE_KEY, { input });
    const replay = await t.gql(UPDATE_KEY, { input });
    expect(first.body.data.updateKey.key.meta).toEqual(JSON.parse(JSON.stringify(SPECIAL)));
    expect(JSON.stringify(replay.body.data)).toBe(JSON.stringify(first.body.data));
  });

  it(`nests up to ${MAX_JSON_DEPTH} levels; deeper, even 10,000, is a typed InvalidInputError and changes nothing`, async () => {
    const deepest = await createDeepIdentity(MAX_JSON_DEPTH);
    expect(deepest.body.data.createIdentity.__typename).toBe("CreateIdentityPayload");
    const records = await t.db.prisma.idempotencyRecord.count();
    for (const depth of [MAX_JSON_DEPTH + 1, 10_000]) {
      const response = await createDeepIdentity(depth);
      expect(response.body.errors).toBeUndefined();
      expect(response.body.data.createIdentity).toMatchObject({ __typename: "InvalidInputError", code: "INVALID_INPUT", field: "meta" });
      expect(response.text).not.toMatch(/RangeError|call stack/);
    }
    expect(await t.db.prisma.identity.count({ where: { externalId: { in: [`deep-${MAX_JSON_DEPTH + 1}`, "deep-10000"] } } })).toBe(0);
    expect(await t.db.prisma.idempotencyRecord.count()).toBe(records);
  });
});
