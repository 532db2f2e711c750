import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OnceqlError } from "../../src/sdk/client.ts";
import { CREATE_IDENTITY, CREATE_KEY } from "../helpers/operations.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

let beforeCommit: (() => Promise<void>) | undefined;
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ config: { idempotencyWaitMs: 100 }, faults: { beforeCommit: () => beforeCommit?.() ?? Promise.resolve() } });
});
afterAll(() => t.close());

describe("errors before any commit say NOT_STORED", () => {
  it("a masked internal error keeps its code and message, and gains the outcome", async () => {
    beforeCommit = async () => {
      beforeCommit = undefined;
      throw new Error("injected failure before commit");
    };
    const failed = await t.gql(CREATE_KEY, { input: { clientMutationId: "masked-1", name: "masked" } });
    expect(failed.body.errors).toEqual([
      expect.objectContaining({
        message: "Unexpected error.",
        path: ["createKey"],
        extensions: expect.objectContaining({ code: "INTERNAL_SERVER_ERROR", outcome: "NOT_STORED" }),
      }),
    ]);
    expect(failed.text).not.toMatch(/injected/);
  });

  it("IDEMPOTENCY_KEY_REUSED and IDEMPOTENCY_KEY_INVALID; the SDK's OnceqlError says it too", async () => {
    await t.gql(CREATE_IDENTITY, { input: { clientMutationId: "reused-1", externalId: "first" } });
    const reused = await t.gql(CREATE_IDENTITY, { input: { clientMutationId: "reused-1", externalId: "second" } });
    expect(reused.body.errors[0].extensions).toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED", outcome: "NOT_STORED" });
    const invalid = await t.gql(CREATE_IDENTITY, { input: { clientMutationId: "has space", externalId: "x" } });
    expect(invalid.body.errors[0].extensions).toMatchObject({ code: "IDEMPOTENCY_KEY_INVALID", outcome: "NOT_STORED" });
    const error = await t
      .sdk()
      .CreateIdentity({ input: { clientMutationId: "reused-1", externalId: "third" } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OnceqlError);
    expect(error).toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED", outcome: "NOT_STORED" });
  });

  it("IDEMPOTENCY_KEY_IN_USE while the first still runs; each field of a request has its own outcome", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    beforeCommit = async () => {
      beforeCommit = undefined;
      await held;
    };
    const input = { clientMutationId: "in-use-1", name: "slow" };
    const first = t.gql(CREATE_KEY, { input });
    await sleep(20);
    // Past the duplicate's 100 ms wait; the second field waits for PGlite's one connection until then.
    setTimeout(release, 400);
    const both = await t.gql(
      `mutation ($input: CreateKeyInput!, $other: CreateIdentityInput!) {
        waiting: createKey(input: $input) { __typename }
        done: createIdentity(input: $other) { __typename ... on CreateIdentityPayload { identity { id } } }
      }`,
      { input, other: { clientMutationId: "in-use-other", externalId: "in-use-other" } },
    );
    expect((await first).body.extensions.idempotency[0].status).toBe("EXECUTED");
    expect(both.body.errors).toEqual([
      expect.objectContaining({
        path: ["waiting"],
        extensions: expect.objectContaining({ code: "IDEMPOTENCY_KEY_IN_USE", outcome: "NOT_STORED" }),
      }),
    ]);
    expect(both.body.data.done.__typename).toBe("CreateIdentityPayload");
  });
});
