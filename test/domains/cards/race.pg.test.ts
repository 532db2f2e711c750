import { CreateCardDocument, type CreateCardMutation } from "@onceql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDatabase, postgresAvailable } from "../../helpers/databases.ts";
import { startTestIssuer, type TestIssuer } from "../../helpers/issuer.ts";
import { startTestApp, type TestApp } from "../../helpers/test-app.ts";

/** Concurrent createCard calls for one identity with different keys: they queue on the identity's row lock. */
describe.skipIf(!postgresAvailable())("createCard races, on PostgreSQL", () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let issuer: TestIssuer;
  let t: TestApp;

  beforeAll(async () => {
    database = await createPostgresDatabase();
    issuer = await startTestIssuer();
    t = await startTestApp({ databaseUrl: database.url, config: { issuerUrl: issuer.url } });
  });
  afterAll(async () => {
    await t?.close();
    await issuer?.close();
    await database?.drop();
  });

  async function newIdentity(externalId: string): Promise<string> {
    const created = await t.sdk().CreateIdentity({ input: { externalId } });
    if (created.data.createIdentity?.__typename !== "CreateIdentityPayload") throw new Error("setup failed");
    return created.data.createIdentity.identity.id;
  }

  const createCards = (identityId: string, prefix: string) =>
    Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        t.request<CreateCardMutation>(CreateCardDocument, { input: { clientMutationId: `${prefix}-${i}`, identityId } }),
      ),
    );

  it("20 keys at once for one identity: one card at the issuer and here, and all 20 answers name it", async () => {
    const identityId = await newIdentity("race-one");
    const responses = await createCards(identityId, "race");
    const named = responses.map((response) => {
      const result = response.data?.createCard;
      if (result?.__typename !== "CreateCardPayload") throw new Error(`expected a card, got ${JSON.stringify(response)}`);
      expect(response.extensions?.idempotency?.[0]?.status).toBe("EXECUTED");
      return result.card.id;
    });
    const atIssuer = issuer.cardsOf(identityId);
    expect(atIssuer).toHaveLength(1);
    expect(new Set(named)).toEqual(new Set([atIssuer[0]!.id]));
    expect(await t.db.prisma.card.findMany({ where: { identityId }, select: { id: true, origin: true } })).toEqual([
      { id: atIssuer[0]!.id, origin: "ISSUED" },
    ]);
  });

  it("the same race while the issuer answers slowly and loses the first creation: still one card, adopted by a later key", async () => {
    const identityId = await newIdentity("race-lossy");
    await issuer.faults({ loseNextCreates: 1, delayMs: 20 });
    const responses = await createCards(identityId, "race-lossy");
    await issuer.clearFaults();
    const cards = responses.flatMap((response) =>
      response.data?.createCard?.__typename === "CreateCardPayload" ? [response.data.createCard.card] : [],
    );
    const unavailable = responses.filter((response) => response.errors?.[0]?.extensions?.code === "ISSUER_UNAVAILABLE");
    expect(cards.length + unavailable.length).toBe(20);
    expect(unavailable).toHaveLength(1);
    const atIssuer = issuer.cardsOf(identityId);
    expect(atIssuer).toHaveLength(1);
    expect(new Set(cards.map((card) => card.id))).toEqual(new Set([atIssuer[0]!.id]));
    expect(cards.every((card) => card.origin === "ADOPTED")).toBe(true);
    expect(await t.db.prisma.card.count({ where: { identityId } })).toBe(1);
  });

  it("a call that waits on the identity's lock longer than the issuer could take gives up: ISSUER_UNAVAILABLE, nothing stored", async () => {
    // A short lease: issuer calls of at most 1 s, and so at most 1 s waiting for the lock.
    const short = await startTestApp({
      databaseUrl: database.url,
      config: { issuerUrl: issuer.url, idempotencyLeaseMs: 4_000, issuerTimeoutMs: 1_000 },
    });
    try {
      const identityId = await newIdentity("race-lock-timeout");
      await issuer.faults({ delayMs: 850 });
      const send = (key: string) =>
        short.request<CreateCardMutation>(CreateCardDocument, { input: { clientMutationId: key, identityId } }, { token: t.token });
      const holder = send("race-lock-holder");
      await new Promise((resolve) => setTimeout(resolve, 200));
      const waiter = await send("race-lock-waiter");
      expect(waiter.errors?.[0]?.extensions?.code).toBe("ISSUER_UNAVAILABLE");
      expect(waiter.errors?.[0]?.message).toMatch(/another card operation for this identity/);
      expect((await holder).data?.createCard?.__typename).toBe("CreateCardPayload");
      expect(await t.db.prisma.idempotencyRecord.count({ where: { clientMutationId: "race-lock-waiter" } })).toBe(0);
      expect(issuer.cardsOf(identityId)).toHaveLength(1);
    } finally {
      await issuer.clearFaults();
      await short.close();
    }
  });
});
