import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CREATE_IDENTITY } from "../../helpers/operations.ts";
import { startTestApp, type TestApp } from "../../helpers/test-app.ts";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe("createIdentity", () => {
  it("creates an identity with its meta, readable by id", async () => {
    const response = await t.gql(CREATE_IDENTITY, { input: { clientMutationId: "ci-1", externalId: "ivan", meta: { plan: "pro" } } });
    const { identity } = response.body.data.createIdentity;
    expect(identity).toMatchObject({ externalId: "ivan", meta: { plan: "pro" } });
    const read = await t.gql(`query($id: ID!) { identity(id: $id) { externalId } }`, { id: identity.id });
    expect(read.body.data.identity).toEqual({ externalId: "ivan" });
  });

  it("answers IdentityAlreadyExistsError for a taken externalId, and the same externalId is free in another workspace", async () => {
    await t.gql(CREATE_IDENTITY, { input: { clientMutationId: "ci-2", externalId: "judy" } });
    const taken = await t.gql(CREATE_IDENTITY, { input: { clientMutationId: "ci-3", externalId: "judy" } });
    expect(taken.body.data.createIdentity).toMatchObject({
      __typename: "IdentityAlreadyExistsError",
      code: "IDENTITY_EXISTS",
      externalId: "judy",
    });
    const other = await t.gql(
      CREATE_IDENTITY,
      { input: { clientMutationId: "ci-3", externalId: "judy" } },
      { token: await t.newWorkspace() },
    );
    expect(other.body.data.createIdentity.__typename).toBe("CreateIdentityPayload");
  });

  it("does not show another workspace's identity", async () => {
    const response = await t.gql(CREATE_IDENTITY, { input: { clientMutationId: "ci-4", externalId: "ken" } });
    const read = await t.gql(
      `query($id: ID!) { identity(id: $id) { externalId } }`,
      { id: response.body.data.createIdentity.identity.id },
      { token: await t.newWorkspace() },
    );
    expect(read.body.data.identity).toBeNull();
  });
});
