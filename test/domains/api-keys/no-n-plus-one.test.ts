import { afterAll, beforeAll, expect, it } from "vitest";
import { CREATE_KEY } from "../../helpers/operations.ts";
import { startCountingApp } from "../../helpers/query-log.ts";

let t: Awaited<ReturnType<typeof startCountingApp>>;
const ids: string[] = [];
beforeAll(async () => {
  t = await startCountingApp();
  for (let i = 0; i < 6; i++) {
    const response = await t.gql(CREATE_KEY, { input: { clientMutationId: `n1-${i}`, externalId: `user-${i}` } });
    ids.push(response.body.data.createKey.key.id);
  }
});
afterAll(() => t.close());

const keysWithIdentities = (count: number) =>
  `{ ${ids
    .slice(0, count)
    .map((id, i) => `k${i}: key(id: "${id}") { name identity { externalId } }`)
    .join(" ")} }`;

it("reads any number of keys with their identities in the same number of SQL statements (no N+1)", async () => {
  const forTwo = await t.statementsDuring(() => t.gql(keysWithIdentities(2)));
  let response: Awaited<ReturnType<typeof t.gql>> | undefined;
  const forSix = await t.statementsDuring(async () => (response = await t.gql(keysWithIdentities(6))));
  expect(Object.values(response!.body.data).map((key) => (key as { identity: { externalId: string } }).identity.externalId)).toEqual(
    ids.map((_, i) => `user-${i}`),
  );
  expect(forSix.length).toBe(forTwo.length);
  expect(forSix.length).toBeLessThanOrEqual(2);
});
