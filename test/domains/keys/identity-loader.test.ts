import { afterAll, beforeAll, expect, it } from "vitest";
import type { Database } from "../../../src/db/database.ts";
import { pgliteDatabase } from "../../helpers/databases.ts";
import { CREATE_KEY } from "../../helpers/operations.ts";
import { startTestApp, type TestApp } from "../../helpers/test-app.ts";

/** Every Prisma call the app makes, recorded as `Model.operation`. */
const calls: string[] = [];
let t: TestApp;
beforeAll(async () => {
  const db = await pgliteDatabase();
  const recorded = db.prisma.$extends({
    query: {
      $allModels: {
        $allOperations({ model, operation, args, query }) {
          calls.push(`${model}.${operation}`);
          return query(args);
        },
      },
    },
  });
  t = await startTestApp({ db: { ...db, prisma: recorded as unknown as Database["prisma"] } });
});
afterAll(async () => {
  await t.close();
  await t.db.close();
});

it("loads the identities of many keys in one query (no N+1)", async () => {
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    const response = await t.gql(CREATE_KEY, { input: { clientMutationId: `n1-${i}`, externalId: `user-${i}` } });
    ids.push(response.body.data.createKey.key.id);
  }
  const query = `{ ${ids.map((id, i) => `k${i}: key(id: "${id}") { identity { externalId } }`).join(" ")} }`;
  calls.length = 0;
  const response = await t.gql(query);
  expect(Object.values(response.body.data).map((key) => (key as { identity: { externalId: string } }).identity.externalId)).toEqual(
    ids.map((_, i) => `user-${i}`),
  );
  expect(calls.filter((call) => call.startsWith("Identity."))).toEqual(["Identity.findMany"]);
});
