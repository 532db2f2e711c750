import "../helpers/errors-without-names.ts";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const FAIL = /* GraphQL */ `
  mutation Fail($input: FailWithTestErrorInput!) {
    failWithTestError(input: $input) {
      __typename
      ... on UserError { code message }
      ... on FirstTestError { detail }
      ... on SecondTestError { detail }
    }
  }
`;

it.each([
  ["first", "FirstTestError", "FIRST_TEST"],
  ["second", "SecondTestError", "SECOND_TEST"],
])("a UserError whose name says nothing (%s) is stored, and replayed as itself by its code", async (which, typename, code) => {
  const input = { clientMutationId: `nameless-${which}`, which, detail: `detail of ${which}` };
  const first = await t.gql(FAIL, { input });
  const replay = await t.gql(FAIL, { input });
  expect(first.body.data.failWithTestError).toEqual({
    __typename: typename,
    code,
    message: `${which}: detail of ${which}`,
    detail: `detail of ${which}`,
  });
  expect(replay.body.errors).toBeUndefined();
  expect(replay.body.data).toEqual(first.body.data);
  expect(replay.body.extensions.idempotency[0].status).toBe("REPLAYED");
});
