import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CREATE_KEY, IDEMPOTENCY_RECORD } from "../helpers/operations.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

let failNext = false;
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({
    faults: {
      beforeCommit() {
        if (failNext) {
          failNext = false;
          throw new Error("injected crash after the side effects, before commit");
        }
      },
    },
  });
});
afterAll(() => t.close());

describe("an unexpected failure after the side effects, before commit", () => {
  it("stores nothing, leaves no row, and a retry with the same key runs once", async () => {
    const input = { clientMutationId: "crash-1", externalId: "erin", name: "crashy" };
    failNext = true;
    const failed = await t.gql(CREATE_KEY, { input });
    expect(failed.body.data.createKey).toBeNull();
    expect(failed.body.errors[0].message).toBe("Unexpected error.");
    expect(failed.text).not.toMatch(/injected|\n\s+at /);
    expect(await t.db.prisma.apiKey.count({ where: { name: "crashy" } })).toBe(0);
    expect(await t.db.prisma.identity.count({ where: { externalId: "erin" } })).toBe(0);
    expect(await t.db.prisma.idempotencyRecord.count({ where: { clientMutationId: "crash-1" } })).toBe(0);
    expect((await t.gql(IDEMPOTENCY_RECORD, { key: "crash-1" })).body.data.idempotencyRecord).toBeNull();

    const retry = await t.gql(CREATE_KEY, { input });
    expect(retry.body.data.createKey.__typename).toBe("CreateKeyPayload");
    expect(retry.body.extensions.idempotency[0].status).toBe("EXECUTED");
    const again = await t.gql(CREATE_KEY, { input });
    expect(again.body.extensions.idempotency[0].status).toBe("REPLAYED");
    expect(await t.db.prisma.apiKey.count({ where: { name: "crashy" } })).toBe(1);
    expect(await t.db.prisma.identity.count({ where: { externalId: "erin" } })).toBe(1);
  });

  it("after a failure, another input with the same key is a fresh first use", async () => {
    failNext = true;
    await t.gql(CREATE_KEY, { input: { clientMutationId: "crash-2", name: "a" } });
    const other = await t.gql(CREATE_KEY, { input: { clientMutationId: "crash-2", name: "b" } });
    expect(other.body.data.createKey.key.name).toBe("b");
  });
});
