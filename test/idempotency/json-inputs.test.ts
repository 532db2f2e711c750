import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH } from "../../src/schema/validation.ts";
import { CREATE_IDENTITY } from "../helpers/operations.ts";
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
  it("createIdentity stores keys named constructor, prototype or __proto__ at any depth, and replays them byte for byte", async () => {
    const input = { clientMutationId: "special-identity", externalId: "special-keys", meta: SPECIAL };
    const first = await t.sdk().CreateIdentity({ input });
    const replay = await t.sdk().CreateIdentity({ input });
    if (first.data.createIdentity?.__typename !== "CreateIdentityPayload") throw new Error(`got ${first.data.createIdentity?.__typename}`);
    expect(first.data.createIdentity.identity.meta).toEqual(SPECIAL);
    expect(JSON.stringify(replay.data)).toBe(JSON.stringify(first.data));
    expect(replay.replayed).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("createKey, sealed as a sensitive outcome, too", async () => {
    const input = { clientMutationId: "special-key", name: "special-keys", meta: SPECIAL };
    const first = await t.sdk().CreateKey({ input });
    const replay = await t.sdk().CreateKey({ input });
    if (first.data.createKey?.__typename !== "CreateKeyPayload") throw new Error(`got ${first.data.createKey?.__typename}`);
    expect(first.data.createKey.key.meta).toEqual(SPECIAL);
    expect(JSON.stringify(replay.data)).toBe(JSON.stringify(first.data));
    expect(replay.replayed).toBe(true);
  });

  it("updateKey too", async () => {
    const created = await t.sdk().CreateKey({ input: { clientMutationId: "special-update-0" } });
    if (created.data.createKey?.__typename !== "CreateKeyPayload") throw new Error("setup failed");
    const input = { clientMutationId: "special-update-1", keyId: created.data.createKey.key.id, meta: SPECIAL };
    const first = await t.sdk().UpdateKey({ input });
    const replay = await t.sdk().UpdateKey({ input });
    if (first.data.updateKey?.__typename !== "UpdateKeyPayload") throw new Error(`got ${first.data.updateKey?.__typename}`);
    expect(first.data.updateKey.key.meta).toEqual(SPECIAL);
    expect(JSON.stringify(replay.data)).toBe(JSON.stringify(first.data));
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
