import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

/**
 * A refused input is kept only as much as a reuse of its key needs: digests of its top-level
 * fields, never the input. One refused createOrder of 15,000 lines kept 750 KB for the TTL.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const CREATE_ORDER = /* GraphQL */ `
  mutation CreateOrder($input: CreateOrderInput!) {
    createOrder(input: $input) { __typename ... on InvalidInputError { field } ... on UserError { code } }
  }
`;

it("a refused createOrder of 15,000 lines keeps a few bytes of its input; it replays, and a reuse names the field that changed", async () => {
  const lines = Array.from({ length: 15_000 }, (_, i) => ({ sku: `refused-${String(i).padStart(24, "0")}`, quantity: 1 }));
  const input = { clientMutationId: "refused-large", lines, customerExternalId: "carol" };
  const first = await t.gql(CREATE_ORDER, { input });
  expect(first.body.data.createOrder).toEqual({ __typename: "InvalidInputError", field: "lines", code: "INVALID_INPUT" });

  const record = await t.db.prisma.idempotencyRecord.findFirstOrThrow({ where: { clientMutationId: "refused-large" } });
  expect(record.input!.length).toBeLessThan(300);
  expect(record.input).not.toContain("refused-");
  expect(record.input).not.toContain("carol");
  expect(await t.db.prisma.order.count()).toBe(0);

  const replay = await t.gql(CREATE_ORDER, { input });
  expect(replay.body.extensions.idempotency[0].status).toBe("REPLAYED");
  expect(replay.body.data).toEqual(first.body.data);
  const reused = await t.gql(CREATE_ORDER, { input: { ...input, customerExternalId: "dave" } });
  expect(reused.body.errors[0].extensions).toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED", differingFields: ["customerExternalId"] });
});

it("an executed input is kept whole, and a reuse names the exact path that changed", async () => {
  const input = { clientMutationId: "kept-whole", externalId: "kept-whole", meta: { a: [1, 2] } };
  const query = "mutation($input: CreateIdentityInput!) { createIdentity(input: $input) { __typename } }";
  expect((await t.gql(query, { input })).body.data.createIdentity.__typename).toBe("CreateIdentityPayload");
  const record = await t.db.prisma.idempotencyRecord.findFirstOrThrow({ where: { clientMutationId: "kept-whole" } });
  expect(JSON.parse(record.input!)).toEqual({ externalId: "kept-whole", meta: { a: [1, 2] } });
  const reused = await t.gql(query, { input: { ...input, meta: { a: [1, 3] } } });
  expect(reused.body.errors[0].extensions).toMatchObject({ differingFields: ["meta.a.1"] });
});
