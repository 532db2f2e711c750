import { setTimeout as sleep } from "node:timers/promises";
import { OnceqlError } from "@onceql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CREATE_IDENTITY, CREATE_KEY } from "../helpers/operations.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

let beforeCommit: (() => Promise<void>) | undefined;
let t: TestApp;
/** The same database, with the shortest lease. */
let leased: TestApp;
beforeAll(async () => {
  const faults = { beforeCommit: () => beforeCommit?.() ?? Promise.resolve() };
  t = await startTestApp({ config: { idempotencyWaitMs: 100 }, faults });
  leased = await startTestApp({ db: t.db, config: { idempotencyLeaseMs: 1_000, issuerTimeoutMs: 250 }, faults });
});
afterAll(async () => {
  await leased.close();
  await t.close();
});

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

  it("a full disk (53100) during the attempt, and an attempt past its lease: DATABASE_BUSY, not a masked error", async () => {
    beforeCommit = async () => {
      beforeCommit = undefined;
      // What node-postgres throws for PostgreSQL's disk_full.
      throw Object.assign(new Error("could not extend file: No space left on device"), { code: "53100", severity: "ERROR" });
    };
    const full = await t.gql(CREATE_KEY, { input: { clientMutationId: "disk-full", name: "full" } });
    expect(full.body.errors[0]).toMatchObject({
      path: ["createKey"],
      extensions: { code: "DATABASE_BUSY", outcome: "NOT_STORED", retryAfterMs: expect.any(Number) },
    });
    expect(full.text).not.toMatch(/No space/);

    beforeCommit = async () => {
      beforeCommit = undefined;
      await sleep(leased.app.services.config.idempotencyLeaseMs + 50);
    };
    const late = await leased.gql(CREATE_KEY, { input: { clientMutationId: "past-lease", name: "late" } });
    expect(late.body.errors[0]).toMatchObject({ path: ["createKey"], extensions: { code: "DATABASE_BUSY", outcome: "NOT_STORED" } });
    expect(await t.db.prisma.apiKey.count({ where: { name: { in: ["full", "late"] } } })).toBe(0);
    const retry = await leased.gql(CREATE_KEY, { input: { clientMutationId: "past-lease", name: "late" } });
    expect(retry.body.extensions.idempotency[0].status).toBe("EXECUTED");
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

  it("errors of a whole mutation request (unauthenticated, invalid) say NOT_STORED; a query's say nothing of a key", async () => {
    const input = { clientMutationId: "refused-1", externalId: "refused" };
    const unauthenticated = await t.gql(CREATE_IDENTITY, { input }, { token: null });
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.body.errors[0].extensions).toMatchObject({ code: "UNAUTHENTICATED", outcome: "NOT_STORED" });
    const invalid = await t.gql("mutation { createIdentity(input: { clientMutationId: 1 }) { __typename } }");
    expect(invalid.body.errors[0].extensions).toMatchObject({ outcome: "NOT_STORED" });
    const query = await t.gql("{ nope }");
    expect(query.body.errors[0].extensions?.outcome).toBeUndefined();
  });
});
