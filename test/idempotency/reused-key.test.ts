import { OnceqlError } from "@onceql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { credit, newWallet, USD } from "../helpers/wallets.ts";

let t: TestApp;
/** A second server on the same database, with nothing cached: it reads the record. */
let other: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  other = await startTestApp({ db: t.db });
});
afterAll(async () => {
  await other.close();
  await t.close();
});

/** What the SDK throws for a reused key, from this server and from one that reads the record. */
async function refusals(call: (app: TestApp) => Promise<unknown>) {
  const errors = [];
  for (const app of [t, other]) {
    const error = await call(app).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(OnceqlError);
    errors.push(error as OnceqlError);
  }
  return errors;
}

describe("IDEMPOTENCY_KEY_REUSED says what differs", () => {
  it("a changed scalar; an added and a removed optional field (on a sensitive mutation, its input sealed at rest)", async () => {
    await t.sdk().CreateKey({ input: { clientMutationId: "diff-1", name: "first", meta: { tier: "gold" } } });
    const cases = [
      [{ name: "second", meta: { tier: "gold" } }, ["name"]],
      [{ name: "first", meta: { tier: "gold" }, externalId: "added" }, ["externalId"]],
      [{ name: "first" }, ["meta"]],
      [{ name: "first", meta: { tier: "silver", seats: 3 } }, ["meta.seats", "meta.tier"]],
    ] as const;
    for (const [input, fields] of cases) {
      for (const error of await refusals((app) =>
        app.sdk({ token: t.token }).CreateKey({ input: { clientMutationId: "diff-1", ...input } }),
      )) {
        expect(error).toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED", originalMutation: "createKey", differingFields: fields });
        expect(error.message).toContain(`with different ${fields.join(", ")}`);
      }
    }
    const record = await t.db.prisma.idempotencyRecord.findFirstOrThrow({ where: { clientMutationId: "diff-1" } });
    expect(record.encrypted).toBe(true);
    expect(record.input).not.toContain("gold");
  });

  it("a changed nested field", async () => {
    const walletId = await newWallet(t);
    await credit(t, walletId, 100);
    await t.sdk().DebitWallet({ input: { clientMutationId: "diff-2", walletId, amount: { asset: USD, value: "10" }, balances: ["main"] } });
    const errors = await refusals((app) =>
      app
        .sdk({ token: t.token })
        .DebitWallet({ input: { clientMutationId: "diff-2", walletId, amount: { asset: USD, value: "11" }, balances: ["*"] } }),
    );
    for (const error of errors)
      expect(error).toMatchObject({ originalMutation: "debitWallet", differingFields: ["amount.value", "balances.0"] });
  });

  it("another mutation: which one, and no fields", async () => {
    await t.sdk().CreateIdentity({ input: { clientMutationId: "diff-3", externalId: "someone" } });
    for (const error of await refusals((app) =>
      app.sdk({ token: t.token }).CreateKey({ input: { clientMutationId: "diff-3", name: "x" } }),
    )) {
      expect(error).toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED", originalMutation: "createIdentity", differingFields: [] });
      expect(error.message).toContain("on another mutation (createIdentity)");
    }
  });

  it("never anything of another workspace: there, the same key is a new key", async () => {
    await t.sdk().CreateKey({ input: { clientMutationId: "diff-4", name: "mine", meta: { secret: "s3" } } });
    const theirs = await t.newWorkspace("theirs");
    const result = await t.sdk({ token: theirs }).CreateKey({ input: { clientMutationId: "diff-4", name: "theirs" } });
    expect(result.replayed).toBe(false);
    expect(result.data.createKey?.__typename).toBe("CreateKeyPayload");
  });
});
