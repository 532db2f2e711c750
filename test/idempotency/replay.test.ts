import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CREATE_IDENTITY, CREATE_KEY, IDEMPOTENCY_RECORD } from "../helpers/operations.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe("a retry with the same key and input", () => {
  it("replays the first outcome: identical data, one row, REPLAYED and the header", async () => {
    const input = { clientMutationId: "replay-1", externalId: "alice", name: "laptop", meta: { b: 1, a: [1, 2] } };
    const first = await t.gql(CREATE_KEY, { input });
    const second = await t.gql(CREATE_KEY, {
      input: { meta: { a: [1, 2], b: 1 }, name: "laptop", externalId: "alice", clientMutationId: "replay-1" },
    });

    expect(first.status).toBe(200);
    expect(first.body.data.createKey.__typename).toBe("CreateKeyPayload");
    expect(first.body.data.createKey.secret).toMatch(/^oq_sk_/);
    expect(second.body.data).toEqual(first.body.data);
    expect(first.body.extensions.idempotency).toEqual([{ field: "createKey", clientMutationId: "replay-1", status: "EXECUTED" }]);
    expect(second.body.extensions.idempotency).toEqual([{ field: "createKey", clientMutationId: "replay-1", status: "REPLAYED" }]);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(await t.db.prisma.apiKey.count({ where: { name: "laptop" } })).toBe(1);
    expect(await t.db.prisma.identity.count({ where: { externalId: "alice" } })).toBe(1);

    const record = await t.gql(IDEMPOTENCY_RECORD, { key: "replay-1" });
    expect(record.body.data.idempotencyRecord).toMatchObject({ mutation: "createKey", status: "COMPLETED", replayCount: 1 });
  });

  it("replays a stored UserError too, without running again", async () => {
    await t.gql(CREATE_IDENTITY, { input: { clientMutationId: "taken-0", externalId: "bob" } });
    const input = { clientMutationId: "taken-1", externalId: "bob" };
    const first = await t.gql(CREATE_IDENTITY, { input });
    // Freed in between: a re-run would now succeed, a replay still answers with the stored error.
    await t.db.prisma.identity.deleteMany({ where: { externalId: "bob" } });
    const second = await t.gql(CREATE_IDENTITY, { input });

    expect(first.body.data.createIdentity).toMatchObject({
      __typename: "IdentityAlreadyExistsError",
      code: "IDENTITY_EXISTS",
      externalId: "bob",
    });
    expect(second.body.data).toEqual(first.body.data);
    expect(second.body.extensions.idempotency[0].status).toBe("REPLAYED");
    expect(await t.db.prisma.identity.count({ where: { externalId: "bob" } })).toBe(0);
  });

  it("shows the payload's own fields as they were, and its relations as they are now", async () => {
    const input = { clientMutationId: "snapshot-1", externalId: "carol", name: "before" };
    const first = await t.gql(CREATE_KEY, { input });
    const keyId = first.body.data.createKey.key.id;
    await t.db.prisma.apiKey.updateMany({ where: { id: keyId }, data: { name: "after" } });
    await t.db.prisma.identity.updateMany({ where: { externalId: "carol" }, data: { externalId: "carol-renamed" } });

    const replay = await t.gql(CREATE_KEY, { input });
    expect(replay.body.data.createKey.key.name).toBe("before");
    expect(replay.body.data.createKey.key.identity.externalId).toBe("carol-renamed");
  });

  it("reports each field of a multi-field operation under its response key; the header only when every field replayed", async () => {
    const operation = /* GraphQL */ `
      mutation Two($a: CreateIdentityInput!, $b: CreateIdentityInput!) {
        first: createIdentity(input: $a) { __typename }
        second: createIdentity(input: $b) { __typename }
      }`;
    const variables = { a: { clientMutationId: "multi-a", externalId: "m-a" }, b: { clientMutationId: "multi-b", externalId: "m-b" } };
    await t.gql(operation, { a: variables.a, b: { ...variables.a, clientMutationId: "multi-a" } });
    const response = await t.gql(operation, variables);
    expect(response.body.extensions.idempotency).toEqual([
      { field: "first", clientMutationId: "multi-a", status: "REPLAYED" },
      { field: "second", clientMutationId: "multi-b", status: "EXECUTED" },
    ]);
    // A client that skips what a replay needs not do would skip the field that executed.
    expect(response.headers.get("idempotent-replayed")).toBeNull();
    const again = await t.gql(operation, variables);
    expect(again.body.extensions.idempotency.map((entry: { status: string }) => entry.status)).toEqual(["REPLAYED", "REPLAYED"]);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
  });

  it("sends the header for a batch only when every operation's every field replayed", async () => {
    const operation = (key: string) => ({
      query: "mutation($input: CreateIdentityInput!) { createIdentity(input: $input) { __typename } }",
      variables: { input: { clientMutationId: key, externalId: key } },
    });
    const batch = (...keys: string[]) =>
      t.fetch("/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${t.token}` },
        body: JSON.stringify(keys.map(operation)),
      });
    await batch("batch-a");
    const mixed = await batch("batch-a", "batch-b");
    const statuses = ((await mixed.json()) as { extensions: { idempotency: { status: string }[] } }[]).map(
      (one) => one.extensions.idempotency[0]!.status,
    );
    expect(statuses).toEqual(["REPLAYED", "EXECUTED"]);
    expect(mixed.headers.get("idempotent-replayed")).toBeNull();
    const refused = await batch("batch-a", "has space");
    expect(refused.headers.get("idempotent-replayed")).toBeNull();
    expect((await batch("batch-a", "batch-b")).headers.get("idempotent-replayed")).toBe("true");
  });
});

describe("the same key with another input", () => {
  it("is refused with IDEMPOTENCY_KEY_REUSED and changes nothing", async () => {
    const first = await t.gql(CREATE_KEY, { input: { clientMutationId: "reuse-1", name: "one" } });
    const before = await t.db.prisma.idempotencyRecord.findFirstOrThrow({ where: { clientMutationId: "reuse-1" } });

    const other = await t.gql(CREATE_KEY, { input: { clientMutationId: "reuse-1", name: "two" } });
    expect(other.body.data.createKey).toBeNull();
    expect(other.body.errors).toHaveLength(1);
    expect(other.body.errors[0].extensions.code).toBe("IDEMPOTENCY_KEY_REUSED");
    expect(await t.db.prisma.apiKey.count({ where: { name: "two" } })).toBe(0);

    await t.app.services.idempotency.flushCounts();
    const after = await t.db.prisma.idempotencyRecord.findFirstOrThrow({ where: { clientMutationId: "reuse-1" } });
    expect({ ...after, conflictCount: 0 }).toEqual({ ...before, conflictCount: 0 });
    expect(after.conflictCount).toBe(1);
    const replay = await t.gql(CREATE_KEY, { input: { clientMutationId: "reuse-1", name: "one" } });
    expect(replay.body.data).toEqual(first.body.data);
  });

  it("racing a conflicting request, a true retry still gets its replay", async () => {
    const input = { clientMutationId: "race-reuse", name: "original" };
    const first = await t.gql(CREATE_KEY, { input });
    const [conflicting, retry] = await Promise.all([
      t.gql(CREATE_KEY, { input: { ...input, name: "impostor" } }),
      t.gql(CREATE_KEY, { input }),
    ]);
    expect(conflicting.body.errors[0].extensions.code).toBe("IDEMPOTENCY_KEY_REUSED");
    expect(retry.body.errors).toBeUndefined();
    expect(retry.body.data).toEqual(first.body.data);
  });

  it("counts an explicit null apart from an omitted field", async () => {
    await t.gql(CREATE_KEY, { input: { clientMutationId: "null-1" } });
    const withNull = await t.gql(CREATE_KEY, { input: { clientMutationId: "null-1", name: null } });
    expect(withNull.body.errors?.[0].extensions.code).toBe("IDEMPOTENCY_KEY_REUSED");
  });

  it("is refused on another mutation as well", async () => {
    await t.gql(CREATE_IDENTITY, { input: { clientMutationId: "cross-1", externalId: "dave" } });
    const other = await t.gql(CREATE_KEY, { input: { clientMutationId: "cross-1" } });
    expect(other.body.errors[0].extensions.code).toBe("IDEMPOTENCY_KEY_REUSED");
    expect(await t.db.prisma.apiKey.count()).toBeGreaterThan(0);
    const keysBefore = await t.db.prisma.apiKey.count();
    await t.gql(CREATE_KEY, { input: { clientMutationId: "cross-1" } });
    expect(await t.db.prisma.apiKey.count()).toBe(keysBefore);
  });
});

describe("the same key in two workspaces", () => {
  it("is two unrelated keys: two executions", async () => {
    const otherToken = await t.newWorkspace("other");
    const input = { clientMutationId: "shared-key", name: "per-workspace" };
    const mine = await t.gql(CREATE_KEY, { input });
    const theirs = await t.gql(CREATE_KEY, { input }, { token: otherToken });

    expect(mine.body.extensions.idempotency[0].status).toBe("EXECUTED");
    expect(theirs.body.extensions.idempotency[0].status).toBe("EXECUTED");
    expect(theirs.body.data.createKey.key.id).not.toBe(mine.body.data.createKey.key.id);
    expect(await t.db.prisma.apiKey.count({ where: { name: "per-workspace" } })).toBe(2);

    const theirRecord = await t.gql(IDEMPOTENCY_RECORD, { key: "replay-1" }, { token: otherToken });
    expect(theirRecord.body.data.idempotencyRecord).toBeNull();
  });
});
