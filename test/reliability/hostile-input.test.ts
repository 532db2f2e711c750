import fc from "fast-check";
import { getIntrospectionQuery } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CREATE_IDENTITY, CREATE_KEY, UPDATE_KEY } from "../helpers/operations.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const STACK_TRACE = /\n\s+at |"stack"|\.ts:\d+|node_modules/;
const rows = async () => ({
  keys: await t.db.prisma.apiKey.count(),
  identities: await t.db.prisma.identity.count(),
  records: await t.db.prisma.idempotencyRecord.count(),
});

describe("query limits", () => {
  it("GraphiQL's introspection query passes", async () => {
    const response = await t.gql(getIntrospectionQuery());
    expect(response.status).toBe(200);
    expect(response.body.data.__schema.types.length).toBeGreaterThan(10);
  });

  it("a query nested past the depth limit is refused before it runs", async () => {
    const nested = `{ __schema { types { ${"ofType { ".repeat(40)}name${" }".repeat(40)} } } }`;
    const response = await t.gql(nested);
    expect(response.status).toBe(400);
    expect(response.body.errors[0].message).toMatch(/depth/i);
  });

  it("too many aliases, or too many tokens, are refused", async () => {
    const aliases = await t.gql(`{ ${Array.from({ length: 40 }, (_, i) => `a${i}: workspace { id }`).join(" ")} }`);
    expect(aliases.status).toBe(400);
    expect(aliases.body.errors[0].message).toMatch(/alias/i);
    const tokens = await t.gql(`{ workspace { ${"id ".repeat(4_000)} } }`);
    expect(tokens.status).toBe(400);
    expect(tokens.body.errors[0].message).toMatch(/token/i);
  });

  it("a mutation batched with many aliases changes nothing when refused", async () => {
    const before = await rows();
    const many = Array.from(
      { length: 40 },
      (_, i) => `m${i}: createIdentity(input: { clientMutationId: "alias-${i}", externalId: "alias-${i}" }) { __typename }`,
    );
    const response = await t.gql(`mutation { ${many.join(" ")} }`);
    expect(response.status).toBe(400);
    expect(await rows()).toEqual(before);
  });
});

describe("batching", () => {
  const batch = (count: number) =>
    t.fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${t.token}` },
      body: JSON.stringify(Array.from({ length: count }, () => ({ query: "{ workspace { id } }" }))),
    });

  it("answers a batch of up to 10 operations, and refuses 11", async () => {
    const ten = await batch(10);
    expect(ten.status).toBe(200);
    expect(await ten.json()).toHaveLength(10);
    const eleven = await batch(11);
    expect(eleven.status).toBeGreaterThanOrEqual(400);
    expect(eleven.status).toBeLessThan(500);
    expect(await eleven.text()).toMatch(/batch/i);
  });
});

describe("CSRF", () => {
  it("refuses a browser-simple request (a form post) that no preflight checked, and runs nothing", async () => {
    const before = await rows();
    const form = new URLSearchParams({
      query: 'mutation { createIdentity(input: { clientMutationId: "csrf-1", externalId: "csrf" }) { __typename } }',
    });
    const response = await t.fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form,
    });
    expect(response.status).toBe(403);
    expect(await response.text()).toMatch(/CSRF/);
    const plain = await t.fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: JSON.stringify({ query: "{ workspace { id } }" }),
    });
    expect(plain.status).toBe(403);
    expect(await rows()).toEqual(before);
  });
});

describe("rate limits per workspace", () => {
  it("refuses a workspace over its budget with 429 and Retry-After, changes nothing, and leaves other workspaces alone", async () => {
    const limited = await startTestApp({ db: t.db, config: { rateLimit: 5 } });
    try {
      const other = await limited.newWorkspace("other");
      // At once: one after the other, on a loaded machine, eight requests can take longer than the
      // second in which five are allowed, and the budget refills before the sixth.
      const responses = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          limited.gql(CREATE_IDENTITY, { input: { clientMutationId: `rl-${i}`, externalId: `rl-${i}` } }),
        ),
      );
      const refused = responses.filter((r) => r.status === 429);
      expect(refused.length).toBeGreaterThanOrEqual(3);
      expect(refused[0]!.body.errors[0].extensions.code).toBe("RATE_LIMITED");
      expect(Number(refused[0]!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(await t.db.prisma.identity.count({ where: { externalId: { startsWith: "rl-" } } })).toBe(8 - refused.length);
      expect((await limited.gql("{ workspace { name } }", undefined, { token: other })).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});

describe("fuzzing mutation inputs and keys", () => {
  const hostileChar = fc.constantFrom("\u0000", "\u0001", "\n", "a", "Z", "é", "\uD800", "💥", "'", '"', "\\", "%", " ");
  const hostileString = fc.oneof(
    fc.string({ unit: hostileChar, maxLength: 12 }),
    fc.string({ unit: "binary", maxLength: 40 }),
    fc.string({ minLength: 240, maxLength: 300 }),
  );
  const nullable = <T>(value: fc.Arbitrary<T>) => fc.option(value, { nil: null });
  // JSON objects draw their keys from JavaScript's special names as well as random ones.
  const jsKey = fc.constantFrom(
    "__proto__",
    "constructor",
    "prototype",
    "toString",
    "valueOf",
    "hasOwnProperty",
    "__defineGetter__",
    "toJSON",
    "then",
    "$type",
    "json",
    "meta",
  );
  const jsonKey = fc.oneof(
    { weight: 3, arbitrary: jsKey },
    { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
    { weight: 1, arbitrary: hostileString },
  );
  const { json } = fc.letrec((tie) => ({
    json: fc.oneof(
      { depthSize: "small" },
      fc.constant(null),
      fc.boolean(),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      hostileString,
      fc.array(tie("json"), { maxLength: 3 }),
      fc.dictionary(jsonKey, tie("json"), { maxKeys: 4 }),
    ),
  }));
  const meta = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.dictionary(jsonKey, json, { maxKeys: 4 }));
  const wrongType = fc.oneof(fc.integer(), fc.boolean(), fc.array(fc.integer(), { maxLength: 2 }));
  const field = <T>(value: fc.Arbitrary<T>) => fc.oneof({ weight: 9, arbitrary: value }, { weight: 1, arbitrary: wrongType });
  const key = fc.oneof(
    { weight: 6, arbitrary: fc.stringMatching(/^[\x21-\x7e]{1,24}$/) },
    { weight: 2, arbitrary: hostileString },
    { weight: 1, arbitrary: fc.string({ minLength: 250, maxLength: 270 }) },
  );
  const date = fc.oneof(
    fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    hostileString,
  );
  const cases = fc.oneof(
    fc
      .record(
        {
          externalId: field(nullable(hostileString)),
          name: field(nullable(hostileString)),
          meta: nullable(meta),
          expiresAt: field(nullable(date)),
        },
        { requiredKeys: [] },
      )
      .map((input) => ({ operation: CREATE_KEY, field: "createKey", input })),
    fc
      .record({ externalId: field(hostileString), meta: nullable(meta) }, { requiredKeys: ["externalId"] })
      .map((input) => ({ operation: CREATE_IDENTITY, field: "createIdentity", input })),
    fc
      .record(
        {
          keyId: field(fc.oneof(fc.uuid(), hostileString)),
          externalId: field(nullable(hostileString)),
          name: field(nullable(hostileString)),
          meta: nullable(meta),
        },
        { requiredKeys: ["keyId"] },
      )
      .map((input) => ({ operation: UPDATE_KEY, field: "updateKey", input })),
  );

  it("answers every input with a typed result or a clear error: never a 500, never a stack trace, never a partial effect", async () => {
    await fc.assert(
      fc.asyncProperty(cases, key, async ({ operation, field, input }, clientMutationId) => {
        const before = await rows();
        const response = await t.gql(operation, { input: { ...input, clientMutationId } });
        expect([200, 400]).toContain(response.status);
        expect(response.text).not.toMatch(STACK_TRACE);
        const result = response.body.data?.[field];
        const after = await rows();
        if (!result) {
          expect(response.body.errors?.length).toBeGreaterThan(0);
          for (const error of response.body.errors) expect(error.message).not.toBe("Unexpected error.");
          expect(after).toEqual(before);
        } else if (!result.__typename.endsWith("Payload")) {
          expect(result.code).toMatch(/^[A-Z_]+$/);
          expect(after.keys).toBe(before.keys);
        } else {
          // Any JSON the schema accepts is stored as sent (JSON's own -0 and key order aside) ...
          if (input.meta != null) {
            const stored = (result.identity ?? result.key).meta;
            expect(JSON.parse(JSON.stringify(stored))).toEqual(JSON.parse(JSON.stringify(input.meta)));
          }
          // ... and, whatever it holds, a stored outcome replays byte for byte.
          const replay = await t.gql(operation, { input: { ...input, clientMutationId } });
          expect(JSON.stringify(replay.body.data)).toBe(JSON.stringify(response.body.data));
        }
      }),
      { numRuns: 300 },
    );
  });
});
