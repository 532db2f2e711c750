import "../helpers/unshowable-error.ts";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

// The helper's state, once the bare import above has put its mutation into the schema.
const { bug } = await import("../helpers/unshowable-error.ts");

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const TALLY = /* GraphQL */ `
  mutation Tally($input: TallyInput!) {
    tally(input: $input) {
      __typename
      ... on TallyError { code message tallies { count } }
    }
  }
`;
const RECORD = /* GraphQL */ `
  query Record($key: String!) {
    idempotencyRecord(clientMutationId: $key) { status }
  }
`;

it("a UserError that could not be shown is not stored: masked, the key left free, and once fixed the same key runs and stores", async () => {
  const input = { clientMutationId: "tally-1", label: "one" };
  bug.on = true;
  for (let attempt = 0; attempt < 2; attempt++) {
    const failed = await t.gql(TALLY, { input });
    expect(failed.body.data.tally).toBeNull();
    expect(failed.body.errors[0]).toMatchObject({ message: "Unexpected error.", extensions: { code: "INTERNAL_SERVER_ERROR" } });
    expect(failed.body.extensions?.idempotency ?? []).toEqual([]);
    expect((await t.gql(RECORD, { key: "tally-1" })).body.data.idempotencyRecord).toBeNull();
    expect(await t.db.prisma.idempotencyRecord.count({ where: { clientMutationId: "tally-1" } })).toBe(0);
    expect(bug.runs).toBe(attempt + 1);
  }

  bug.on = false;
  const fixed = await t.gql(TALLY, { input });
  expect(fixed.body.errors).toBeUndefined();
  expect(fixed.body.data.tally).toEqual({
    __typename: "TallyError",
    code: "TALLY",
    message: "tallies: 1, 2147483647",
    tallies: [{ count: 1 }, { count: 2147483647 }],
  });
  expect(fixed.body.extensions.idempotency[0].status).toBe("EXECUTED");
  const replay = await t.gql(TALLY, { input });
  expect(replay.body.extensions.idempotency[0].status).toBe("REPLAYED");
  expect(replay.body.data).toEqual(fixed.body.data);
  expect(bug.runs).toBe(3);
  expect((await t.gql(RECORD, { key: "tally-1" })).body.data.idempotencyRecord).toEqual({ status: "COMPLETED" });
});
