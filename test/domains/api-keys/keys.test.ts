import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CREATE_KEY, UPDATE_KEY, VERIFY_KEY } from "../../helpers/operations.ts";
import { startTestApp, type TestApp } from "../../helpers/test-app.ts";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

async function createKey(clientMutationId: string, input: Record<string, unknown> = {}) {
  const response = await t.gql(CREATE_KEY, { input: { clientMutationId, ...input } });
  return response.body.data.createKey;
}

describe("createKey", () => {
  it("creates a key without an identity, and one for an identity found or created by externalId", async () => {
    const bare = await createKey("ck-1", { name: "bare" });
    expect(bare.key.identity).toBeNull();
    const first = await createKey("ck-2", { externalId: "frank" });
    const second = await createKey("ck-3", { externalId: "frank" });
    expect(second.key.identity.id).toBe(first.key.identity.id);
    expect(await t.db.prisma.identity.count({ where: { externalId: "frank" } })).toBe(1);
  });

  it("stores the secret only as a hash, and the outcome that holds it encrypted", async () => {
    const created = await createKey("ck-secret", { name: "secretive" });
    const row = await t.db.prisma.apiKey.findFirstOrThrow({ where: { id: created.key.id } });
    expect(JSON.stringify(row)).not.toContain(created.secret);
    const record = await t.db.prisma.idempotencyRecord.findFirstOrThrow({ where: { clientMutationId: "ck-secret" } });
    expect(record.encrypted).toBe(true);
    expect(record.outcome).not.toContain(created.secret);
    expect(record.outcome).not.toContain("secretive");
  });

  it("refuses an expiry in the past with a typed error", async () => {
    const result = await createKey("ck-past", { expiresAt: "2020-01-01T00:00:00Z" });
    expect(result).toMatchObject({ __typename: "InvalidInputError", code: "INVALID_INPUT" });
  });
});

describe("verifyKey", () => {
  it("knows a key's secret, its identity, and nothing else", async () => {
    const created = await createKey("vk-1", { externalId: "grace", name: "verify-me" });
    const valid = await t.gql(VERIFY_KEY, { secret: created.secret });
    expect(valid.body.data.verifyKey).toEqual({
      valid: true,
      key: { id: created.key.id, name: "verify-me" },
      identity: { externalId: "grace" },
    });
    const wrong = await t.gql(VERIFY_KEY, { secret: `${created.secret}x` });
    expect(wrong.body.data.verifyKey).toEqual({ valid: false, key: null, identity: null });
  });

  it("says an expired key is not valid", async () => {
    const created = await createKey("vk-2", { expiresAt: new Date(Date.now() + 60_000).toISOString() });
    await t.db.prisma.apiKey.updateMany({ where: { id: created.key.id }, data: { expiresAt: new Date(Date.now() - 1_000) } });
    const response = await t.gql(VERIFY_KEY, { secret: created.secret });
    expect(response.body.data.verifyKey.valid).toBe(false);
  });

  it("does not verify another workspace's secret", async () => {
    const created = await createKey("vk-3");
    const otherToken = await t.newWorkspace("other");
    const response = await t.gql(VERIFY_KEY, { secret: created.secret }, { token: otherToken });
    expect(response.body.data.verifyKey).toEqual({ valid: false, key: null, identity: null });
  });
});

describe("updateKey", () => {
  it("renames, attaches an identity by externalId, detaches it with null, and leaves omitted fields alone", async () => {
    const created = await createKey("uk-0", { name: "before", meta: { a: 1 } });
    const keyId = created.key.id;
    const renamed = await t.gql(UPDATE_KEY, { input: { clientMutationId: "uk-1", keyId, name: "after" } });
    expect(renamed.body.data.updateKey.key).toMatchObject({ name: "after", meta: { a: 1 }, identity: null });

    const attached = await t.gql(UPDATE_KEY, { input: { clientMutationId: "uk-2", keyId, externalId: "heidi" } });
    expect(attached.body.data.updateKey.key).toMatchObject({ name: "after", identity: { externalId: "heidi" } });

    const detached = await t.gql(UPDATE_KEY, { input: { clientMutationId: "uk-3", keyId, externalId: null, meta: null } });
    expect(detached.body.data.updateKey.key).toMatchObject({ name: "after", meta: null, identity: null });
    expect(await t.db.prisma.identity.count({ where: { externalId: "heidi" } })).toBe(1);
  });

  it("answers KeyNotFoundError for an unknown key, a malformed id, or another workspace's key, changing nothing", async () => {
    const otherToken = await t.newWorkspace("other");
    const theirs = (await t.gql(CREATE_KEY, { input: { clientMutationId: "uk-theirs", name: "theirs" } }, { token: otherToken })).body.data
      .createKey;
    for (const [i, keyId] of ["00000000-0000-7000-8000-000000000000", "not-a-uuid", theirs.key.id].entries()) {
      const response = await t.gql(UPDATE_KEY, {
        input: { clientMutationId: `uk-missing-${i}`, keyId, name: "hijacked", externalId: "mallory" },
      });
      expect(response.body.data.updateKey).toMatchObject({ __typename: "KeyNotFoundError", code: "KEY_NOT_FOUND", keyId });
    }
    expect(await t.db.prisma.apiKey.count({ where: { name: "hijacked" } })).toBe(0);
    expect(await t.db.prisma.identity.count({ where: { externalId: "mallory" } })).toBe(0);
  });

  it("replays a rename without applying it again", async () => {
    const created = await createKey("uk-r0", { name: "one" });
    const input = { clientMutationId: "uk-r1", keyId: created.key.id, name: "two" };
    const first = await t.gql(UPDATE_KEY, { input });
    await t.db.prisma.apiKey.updateMany({ where: { id: created.key.id }, data: { name: "three" } });
    const replay = await t.gql(UPDATE_KEY, { input });
    expect(replay.body.data).toEqual(first.body.data);
    expect((await t.db.prisma.apiKey.findFirstOrThrow({ where: { id: created.key.id } })).name).toBe("three");
  });
});
