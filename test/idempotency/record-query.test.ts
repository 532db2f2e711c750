import { afterAll, beforeAll, expect, it } from "vitest";
import { CREATE_IDENTITY } from "../helpers/operations.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const RECORD = /* GraphQL */ `
  query Record($key: String!) {
    idempotencyRecord(clientMutationId: $key) { clientMutationId mutation status }
  }
`;

/**
 * A key no mutation could have taken is IDEMPOTENCY_KEY_INVALID here too, as a mutation given it
 * says: null would tell a client with a bug in its keys "unknown or expired", and hide the bug.
 */
it.each([
  ["with NUL", "a\u0000b"],
  ["empty", ""],
  ["with a space", "has space"],
  ["non-ASCII", "clé-1"],
  ["a lone surrogate", "k\ud800"],
  ["256 characters", "k".repeat(256)],
])("idempotencyRecord of a key that is %s: IDEMPOTENCY_KEY_INVALID, as a mutation says", async (_label, key) => {
  const response = await t.gql(RECORD, { key });
  expect(response.status).toBe(200);
  expect(response.body.data).toEqual({ idempotencyRecord: null });
  expect(response.body.errors).toHaveLength(1);
  expect(response.body.errors[0]).toMatchObject({ path: ["idempotencyRecord"], extensions: { code: "IDEMPOTENCY_KEY_INVALID" } });
  const mutation = await t.gql(CREATE_IDENTITY, { input: { clientMutationId: key, externalId: "never" } });
  expect(mutation.body.errors[0].extensions.code).toBe("IDEMPOTENCY_KEY_INVALID");
  expect(response.body.errors[0].message).toBe(mutation.body.errors[0].message);
});

it("a well-formed key: its record, or null when it is unknown", async () => {
  await t.gql(CREATE_IDENTITY, { input: { clientMutationId: "~".repeat(255), externalId: "tilde" } });
  expect((await t.gql(RECORD, { key: "~".repeat(255) })).body.data.idempotencyRecord).toEqual({
    clientMutationId: "~".repeat(255),
    mutation: "createIdentity",
    status: "COMPLETED",
  });
  const unknown = await t.gql(RECORD, { key: "never-used" });
  expect(unknown.body).toEqual({ data: { idempotencyRecord: null } });
});
