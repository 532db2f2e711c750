import {
  CreateCardDocument,
  type CreateCardMutation,
  type CreateCardMutationVariables,
  IdentityCardsDocument,
  type IdentityCardsQuery,
} from "@onceql/client";
import pino from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { freePort } from "../../../scripts/fleet.ts";
import { startTestIssuer, type TestIssuer } from "../../helpers/issuer.ts";
import { startTestApp, type TestApp } from "../../helpers/test-app.ts";

const ISSUER_TIMEOUT_MS = 300;
let issuer: TestIssuer;
let t: TestApp;
let withIssuerDown: TestApp;
const warnings: { msg: string; identity?: string; card?: string }[] = [];

beforeAll(async () => {
  issuer = await startTestIssuer({ cardLimit: 3 });
  const logger = pino({ level: "warn" }, { write: (line: string) => void warnings.push(JSON.parse(line)) });
  t = await startTestApp({ config: { issuerUrl: issuer.url, issuerTimeoutMs: ISSUER_TIMEOUT_MS }, logger });
  const nobody = `http://127.0.0.1:${await freePort()}`;
  withIssuerDown = await startTestApp({ db: t.db, config: { issuerUrl: nobody, issuerTimeoutMs: ISSUER_TIMEOUT_MS } });
});
afterAll(async () => {
  await withIssuerDown?.close();
  await t?.close();
  await issuer?.close();
});
beforeEach(() => issuer.clearFaults());

let identities = 0;
async function newIdentity(token?: string): Promise<string> {
  const created = await t.sdk(token ? { token } : {}).CreateIdentity({ input: { externalId: `card-holder-${identities++}` } });
  if (created.data.createIdentity?.__typename !== "CreateIdentityPayload") throw new Error("setup failed");
  return created.data.createIdentity.identity.id;
}

const createCard = (clientMutationId: string, identityId: string, token?: string, app = t) =>
  app.request<CreateCardMutation, CreateCardMutationVariables>(CreateCardDocument, { input: { clientMutationId, identityId } }, { token });

function cardOf(response: Awaited<ReturnType<typeof createCard>>) {
  const result = response.data?.createCard;
  if (result?.__typename !== "CreateCardPayload") throw new Error(`expected a card, got ${JSON.stringify(response)}`);
  return result.card;
}

const heldCards = (identityId: string) => t.db.prisma.card.findMany({ where: { identityId }, orderBy: { createdAt: "asc" } });
const storedRecords = (clientMutationId: string) => t.db.prisma.idempotencyRecord.count({ where: { clientMutationId } });
const adoptedTotal = async () => Number(/onceql_cards_orphans_adopted_total (\d+)/.exec(await (await t.fetch("/metrics")).text())?.[1]);

describe("createCard", () => {
  it("issues a card, and answers every later call for the identity with it, asking the issuer nothing more", async () => {
    const identityId = await newIdentity();
    const first = cardOf(await createCard("cc-issue-1", identityId));
    expect(first).toMatchObject({ status: "ACTIVE", origin: "ISSUED", identity: { id: identityId } });
    expect(first.last4).toMatch(/^\d{4}$/);
    const requests = issuer.requests();
    const again = cardOf(await createCard("cc-issue-2", identityId));
    expect(again.id).toBe(first.id);
    expect(issuer.requests()).toBe(requests);
    expect(issuer.cardsOf(identityId)).toHaveLength(1);
    const read = await t.request<IdentityCardsQuery>(IdentityCardsDocument, { id: identityId });
    expect(read.data?.identity?.cards.map((card) => card.id)).toEqual([first.id]);
  });

  it("a response lost after the issuer created the card, then a retry with the same key: that card, adopted", async () => {
    const identityId = await newIdentity();
    const adoptedBefore = await adoptedTotal();
    await issuer.faults({ loseNextCreates: 1 });
    const lost = await createCard("cc-lost-1", identityId);
    expect(lost.errors?.[0]?.extensions).toMatchObject({ code: "ISSUER_UNAVAILABLE", retryAfterMs: expect.any(Number) });
    expect(await storedRecords("cc-lost-1")).toBe(0);
    expect(issuer.cardsOf(identityId)).toHaveLength(1);

    const retry = await createCard("cc-lost-1", identityId);
    const card = cardOf(retry);
    expect(card).toMatchObject({ id: issuer.cardsOf(identityId)[0]!.id, status: "ACTIVE", origin: "ADOPTED" });
    expect(retry.extensions?.idempotency?.[0]?.status).toBe("EXECUTED");
    expect(issuer.cardsOf(identityId)).toHaveLength(1);
    expect(await heldCards(identityId)).toMatchObject([{ id: card.id, origin: "ADOPTED", status: "ACTIVE" }]);
    expect(await adoptedTotal()).toBe(adoptedBefore + 1);
    expect(warnings).toContainEqual(expect.objectContaining({ identity: identityId, card: card.id }));
  });

  it("the same lost response, the key given up and a new one used: adopted, not duplicated", async () => {
    const identityId = await newIdentity();
    await issuer.faults({ loseNextCreates: 1 });
    expect((await createCard("cc-abandoned", identityId)).errors?.[0]?.extensions?.code).toBe("ISSUER_UNAVAILABLE");
    // Nothing was stored under the old key: whatever its client does with it, the card is found again.
    expect(await storedRecords("cc-abandoned")).toBe(0);
    const card = cardOf(await createCard("cc-fresh-key", identityId));
    expect(card.origin).toBe("ADOPTED");
    expect(issuer.cardsOf(identityId).map((c) => c.id)).toEqual([card.id]);
    expect(cardOf(await createCard("cc-abandoned", identityId)).id).toBe(card.id);
    expect(issuer.cardsOf(identityId)).toHaveLength(1);
  });

  it("several ACTIVE orphans: only the first is adopted", async () => {
    const identityId = await newIdentity();
    const [first, second] = [await issuer.createDirectly(identityId), await issuer.createDirectly(identityId)];
    const card = cardOf(await createCard("cc-orphans", identityId));
    expect(card).toMatchObject({ id: first.id, origin: "ADOPTED" });
    expect((await heldCards(identityId)).map((c) => c.id)).toEqual([first.id]);
    expect(issuer.cardsOf(identityId).map((c) => c.id)).toEqual([first.id, second.id]);
  });

  it("FROZEN and DELETED cards at the issuer are never adopted: a new card is issued", async () => {
    const identityId = await newIdentity();
    const frozen = await issuer.createDirectly(identityId);
    await issuer.setStatusDirectly(frozen.id, "FROZEN");
    const deleted = await issuer.createDirectly(identityId);
    await issuer.setStatusDirectly(deleted.id, "DELETED");
    const card = cardOf(await createCard("cc-not-active", identityId));
    expect(card.origin).toBe("ISSUED");
    expect([frozen.id, deleted.id]).not.toContain(card.id);
    expect(await heldCards(identityId)).toHaveLength(1);
  });

  it("an ACTIVE orphan whose id this database holds as DELETED is not adopted; a DELETED row of the identity does not stop another adoption", async () => {
    const identityId = await newIdentity();
    const ghost = await issuer.createDirectly(identityId);
    const { workspaceId } = await t.db.prisma.identity.findFirstOrThrow({ where: { id: identityId } });
    await t.db.prisma.card.create({
      data: { id: ghost.id, workspaceId, identityId, last4: "0000", expMonth: 1, expYear: 2030, status: "DELETED", origin: "ISSUED" },
    });
    const orphan = await issuer.createDirectly(identityId);
    const card = cardOf(await createCard("cc-deleted-held", identityId));
    expect(card).toMatchObject({ id: orphan.id, origin: "ADOPTED" });
    expect((await heldCards(identityId)).map((c) => [c.id, c.status])).toEqual([
      [ghost.id, "DELETED"],
      [orphan.id, "ACTIVE"],
    ]);
  });

  it("the issuer's card limit: CARD_LIMIT_REACHED, stored, and replayed identically", async () => {
    const identityId = await newIdentity();
    for (let i = 0; i < 3; i++) await issuer.setStatusDirectly((await issuer.createDirectly(identityId)).id, "FROZEN");
    const refused = await createCard("cc-limit", identityId);
    expect(refused.data?.createCard).toMatchObject({ __typename: "CardLimitReachedError", code: "CARD_LIMIT_REACHED", identityId });
    const requests = issuer.requests();
    const replay = await createCard("cc-limit", identityId);
    expect(replay.data).toEqual(refused.data);
    expect(replay.extensions?.idempotency?.[0]?.status).toBe("REPLAYED");
    expect(issuer.requests()).toBe(requests);
    expect(await heldCards(identityId)).toHaveLength(0);
  });

  describe("the issuer unavailable: ISSUER_UNAVAILABLE, nothing stored, and a retry with the same key gets one card", () => {
    it.each([
      ["down (unreachable)", "down"],
      ["answering 5xx", "5xx"],
      ["slower than the timeout", "slow"],
    ] as const)("%s", async (_name, fault) => {
      const identityId = await newIdentity();
      const key = `cc-unavailable-${fault}`;
      if (fault !== "down") await issuer.faults(fault === "5xx" ? { failNext: 2 } : { delayMs: ISSUER_TIMEOUT_MS * 3 });
      // A server of the same database whose issuer is down: nothing listens at its URL.
      const answer = fault === "down" ? await createCard(key, identityId, t.token, withIssuerDown) : await createCard(key, identityId);
      expect(answer.status).toBe(503);
      expect(answer.errors?.[0]?.extensions).toMatchObject({ code: "ISSUER_UNAVAILABLE", retryAfterMs: 1_000 });
      expect(answer.data?.createCard ?? null).toBeNull();
      expect(await storedRecords(key)).toBe(0);
      expect(await heldCards(identityId)).toHaveLength(0);

      await issuer.clearFaults();
      const card = cardOf(await createCard(key, identityId));
      expect(issuer.cardsOf(identityId).map((c) => c.id)).toEqual([card.id]);
      expect(await heldCards(identityId)).toHaveLength(1);
    });
  });

  it("the SDK retries ISSUER_UNAVAILABLE with the same key by itself: a lost creation ends as one adopted card", async () => {
    const identityId = await newIdentity();
    await issuer.faults({ loseNextCreates: 1, failNext: 1 });
    const result = await t.sdk({ maxAttempts: 5, baseDelayMs: 10, maxDelayMs: 50 }).CreateCard({ input: { identityId } });
    expect(result.attempts).toBe(3);
    expect(result.data.createCard).toMatchObject({ __typename: "CreateCardPayload", card: { origin: "ADOPTED" } });
    expect(issuer.cardsOf(identityId)).toHaveLength(1);
    expect(await heldCards(identityId)).toHaveLength(1);
  });

  it("an unknown identity, another workspace's, or a malformed id: IdentityNotFoundError, and the issuer is never called", async () => {
    const otherToken = await t.newWorkspace("other");
    const theirs = await newIdentity(otherToken);
    const requests = issuer.requests();
    for (const [i, identityId] of ["00000000-0000-7000-8000-000000000000", theirs, "not-a-uuid"].entries()) {
      const response = await createCard(`cc-bad-${i}`, identityId);
      expect(response.data?.createCard).toMatchObject({ __typename: "IdentityNotFoundError", code: "IDENTITY_NOT_FOUND", identityId });
    }
    expect(issuer.requests()).toBe(requests);
    expect(await t.db.prisma.card.count({ where: { identityId: theirs } })).toBe(0);
  });
});
