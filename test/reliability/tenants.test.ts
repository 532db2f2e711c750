import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CREATE_IDENTITY, CREATE_KEY, IDEMPOTENCY_RECORD, UPDATE_KEY, VERIFY_KEY } from "../helpers/operations.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

let t: TestApp;
let alice: string;
let mallory: string;
let aliceKey: { id: string; secret: string; identityId: string };

beforeAll(async () => {
  t = await startTestApp();
  alice = await t.newWorkspace("alice");
  mallory = await t.newWorkspace("mallory");
  const created = (
    await t.gql(CREATE_KEY, { input: { clientMutationId: "alice-1", name: "alice-key", externalId: "alice-user" } }, { token: alice })
  ).body.data.createKey;
  aliceKey = { id: created.key.id, secret: created.secret, identityId: created.key.identity.id };
});
afterAll(() => t.close());

describe("one workspace never sees another's", () => {
  it("keys: Alice's key with the same input runs anew for Mallory; it is neither replayed nor refused", async () => {
    const same = await t.gql(
      CREATE_KEY,
      { input: { clientMutationId: "alice-1", name: "alice-key", externalId: "alice-user" } },
      { token: mallory },
    );
    expect(same.body.extensions.idempotency[0].status).toBe("EXECUTED");
    expect(same.body.data.createKey.secret).not.toBe(aliceKey.secret);
    expect(same.body.data.createKey.key.identity.id).not.toBe(aliceKey.identityId);
    const other = await t.gql(
      CREATE_IDENTITY,
      { input: { clientMutationId: "alice-1", externalId: "x" } },
      { token: await t.newWorkspace() },
    );
    expect(other.body.extensions.idempotency[0].status).toBe("EXECUTED");
  });

  it("records: idempotencyRecord of Alice's key is null for a workspace that never used it", async () => {
    const fresh = await t.newWorkspace();
    expect((await t.gql(IDEMPOTENCY_RECORD, { key: "alice-1" }, { token: fresh })).body.data.idempotencyRecord).toBeNull();
    expect((await t.gql(IDEMPOTENCY_RECORD, { key: "alice-1" }, { token: alice })).body.data.idempotencyRecord.mutation).toBe("createKey");
  });

  it("API keys and identities: not readable, not verifiable, not updatable, and the error is the one an unknown id gets", async () => {
    expect((await t.gql(VERIFY_KEY, { secret: aliceKey.secret }, { token: mallory })).body.data.verifyKey).toEqual({
      valid: false,
      key: null,
      identity: null,
    });
    expect((await t.gql(`query($id: ID!) { key(id: $id) { id } }`, { id: aliceKey.id }, { token: mallory })).body.data.key).toBeNull();
    expect(
      (await t.gql(`query($id: ID!) { identity(id: $id) { id } }`, { id: aliceKey.identityId }, { token: mallory })).body.data.identity,
    ).toBeNull();

    const unknownId = "01234567-89ab-7def-8123-456789abcdef";
    const theirs = await t.gql(UPDATE_KEY, { input: { clientMutationId: "m-1", keyId: aliceKey.id, name: "pwned" } }, { token: mallory });
    const unknown = await t.gql(UPDATE_KEY, { input: { clientMutationId: "m-2", keyId: unknownId, name: "pwned" } }, { token: mallory });
    expect(theirs.body.data.updateKey.__typename).toBe("KeyNotFoundError");
    expect(theirs.body.data.updateKey.message.replace(aliceKey.id, "ID")).toBe(
      unknown.body.data.updateKey.message.replace(unknownId, "ID"),
    );
    expect((await t.db.prisma.apiKey.findFirstOrThrow({ where: { id: aliceKey.id } })).name).toBe("alice-key");
  });

  it("externalIds: taken in Alice's workspace, free in Mallory's", async () => {
    const response = await t.gql(
      CREATE_IDENTITY,
      { input: { clientMutationId: "m-3", externalId: "alice-user" } },
      { token: await t.newWorkspace() },
    );
    expect(response.body.data.createIdentity.__typename).toBe("CreateIdentityPayload");
    expect(await t.db.prisma.identity.count({ where: { externalId: "alice-user" } })).toBe(3);
  });
});
