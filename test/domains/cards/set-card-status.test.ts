import {
  CardDocument,
  type CardQuery,
  CreateCardDocument,
  type CreateCardMutation,
  SetCardStatusDocument,
  type SetCardStatusMutation,
  type SetCardStatusMutationVariables,
} from "@onceql/client";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startTestIssuer, type TestIssuer } from "../../helpers/issuer.ts";
import { startTestApp, type TestApp } from "../../helpers/test-app.ts";

let issuer: TestIssuer;
let t: TestApp;
beforeAll(async () => {
  issuer = await startTestIssuer();
  t = await startTestApp({ config: { issuerUrl: issuer.url, issuerTimeoutMs: 300 } });
});
afterAll(async () => {
  await t?.close();
  await issuer?.close();
});
beforeEach(() => issuer.clearFaults());

let n = 0;
async function newCard(token = t.token): Promise<{ cardId: string; identityId: string }> {
  const sdk = t.sdk({ token });
  const identity = await sdk.CreateIdentity({ input: { externalId: `status-holder-${n++}` } });
  if (identity.data.createIdentity?.__typename !== "CreateIdentityPayload") throw new Error("setup failed");
  const identityId = identity.data.createIdentity.identity.id;
  const created = await t.request<CreateCardMutation>(
    CreateCardDocument,
    { input: { clientMutationId: `sc-card-${n}`, identityId } },
    { token },
  );
  if (created.data?.createCard?.__typename !== "CreateCardPayload") throw new Error("setup failed");
  return { cardId: created.data.createCard.card.id, identityId };
}

const setStatus = (clientMutationId: string, cardId: string, status: "ACTIVE" | "FROZEN" | "DELETED") =>
  t.request<SetCardStatusMutation, SetCardStatusMutationVariables>(SetCardStatusDocument, { input: { clientMutationId, cardId, status } });

const issuerStatus = (identityId: string, cardId: string) => issuer.cardsOf(identityId).find((card) => card.id === cardId)?.status;
const heldStatus = async (cardId: string) => (await t.db.prisma.card.findFirstOrThrow({ where: { id: cardId } })).status;

describe("setCardStatus", () => {
  it("freezes a card at the issuer and here, then activates it again", async () => {
    const { cardId, identityId } = await newCard();
    const frozen = await setStatus("sc-freeze", cardId, "FROZEN");
    expect(frozen.data?.setCardStatus).toMatchObject({ __typename: "SetCardStatusPayload", card: { id: cardId, status: "FROZEN" } });
    expect([issuerStatus(identityId, cardId), await heldStatus(cardId)]).toEqual(["FROZEN", "FROZEN"]);
    const active = await setStatus("sc-unfreeze", cardId, "ACTIVE");
    expect(active.data?.setCardStatus).toMatchObject({ __typename: "SetCardStatusPayload", card: { id: cardId, status: "ACTIVE" } });
    expect([issuerStatus(identityId, cardId), await heldStatus(cardId)]).toEqual(["ACTIVE", "ACTIVE"]);
    const read = await t.request<CardQuery>(CardDocument, { id: cardId });
    expect(read.data?.card).toMatchObject({ id: cardId, status: "ACTIVE", origin: "ISSUED", identity: { id: identityId } });
  });

  it("replays with identical data without telling the issuer again, and refuses the key with another status", async () => {
    const { cardId } = await newCard();
    const first = await setStatus("sc-replay", cardId, "FROZEN");
    const requests = issuer.requests();
    const replay = await setStatus("sc-replay", cardId, "FROZEN");
    expect(replay.data).toEqual(first.data);
    expect(replay.extensions?.idempotency?.[0]?.status).toBe("REPLAYED");
    const reused = await setStatus("sc-replay", cardId, "DELETED");
    expect(reused.errors?.[0]?.extensions?.code).toBe("IDEMPOTENCY_KEY_REUSED");
    expect(issuer.requests()).toBe(requests);
    expect(await heldStatus(cardId)).toBe("FROZEN");
  });

  it("DELETED is final: any later change is CARD_NOT_FOUND, at the issuer it stays DELETED", async () => {
    const { cardId, identityId } = await newCard();
    expect((await setStatus("sc-delete", cardId, "DELETED")).data?.setCardStatus).toMatchObject({ card: { status: "DELETED" } });
    const requests = issuer.requests();
    for (const status of ["ACTIVE", "FROZEN", "DELETED"] as const) {
      const after = await setStatus(`sc-after-delete-${status}`, cardId, status);
      expect(after.data?.setCardStatus).toMatchObject({ __typename: "CardNotFoundError", code: "CARD_NOT_FOUND", cardId });
    }
    expect(issuer.requests()).toBe(requests);
    expect([issuerStatus(identityId, cardId), await heldStatus(cardId)]).toEqual(["DELETED", "DELETED"]);
  });

  it("another workspace's card, an unknown one or a malformed id: CARD_NOT_FOUND, and the issuer is never called", async () => {
    const theirs = await newCard(await t.newWorkspace("other"));
    const requests = issuer.requests();
    for (const [i, cardId] of [theirs.cardId, "00000000-0000-4000-8000-000000000000", "not-a-uuid"].entries()) {
      const response = await setStatus(`sc-not-mine-${i}`, cardId, "DELETED");
      expect(response.data?.setCardStatus).toMatchObject({ __typename: "CardNotFoundError", code: "CARD_NOT_FOUND", cardId });
    }
    expect(issuer.requests()).toBe(requests);
    expect(await heldStatus(theirs.cardId)).toBe("ACTIVE");
  });

  it("activating a frozen card while the identity has another ACTIVE one: IdentityHasActiveCardError, nothing changes anywhere", async () => {
    const { cardId: frozenId, identityId } = await newCard();
    await setStatus("sc-two-freeze", frozenId, "FROZEN");
    const second = await t.request<CreateCardMutation>(CreateCardDocument, { input: { clientMutationId: "sc-two-second", identityId } });
    if (second.data?.createCard?.__typename !== "CreateCardPayload") throw new Error("expected a second card");
    const activeId = second.data.createCard.card.id;
    expect(activeId).not.toBe(frozenId);
    const requests = issuer.requests();
    const refused = await setStatus("sc-two-activate", frozenId, "ACTIVE");
    expect(refused.data?.setCardStatus).toMatchObject({
      __typename: "IdentityHasActiveCardError",
      code: "IDENTITY_HAS_ACTIVE_CARD",
      identityId,
      activeCardId: activeId,
    });
    expect(issuer.requests()).toBe(requests);
    expect([issuerStatus(identityId, frozenId), await heldStatus(frozenId)]).toEqual(["FROZEN", "FROZEN"]);
  });

  it("activating while an ACTIVE orphan waits at the issuer: IdentityHasActiveCardError naming it, which createCard then adopts", async () => {
    const { cardId, identityId } = await newCard();
    await setStatus("sc-orphan-freeze", cardId, "FROZEN");
    const orphan = await issuer.createDirectly(identityId);
    const refused = await setStatus("sc-orphan-activate", cardId, "ACTIVE");
    expect(refused.data?.setCardStatus).toMatchObject({ __typename: "IdentityHasActiveCardError", activeCardId: orphan.id });
    expect([issuerStatus(identityId, cardId), await heldStatus(cardId)]).toEqual(["FROZEN", "FROZEN"]);
    const adopted = await t.request<CreateCardMutation>(CreateCardDocument, { input: { clientMutationId: "sc-orphan-adopt", identityId } });
    expect(adopted.data?.createCard).toMatchObject({ card: { id: orphan.id, origin: "ADOPTED" } });
  });

  it("the issuer unavailable: ISSUER_UNAVAILABLE, nothing changed here, and the same key then succeeds", async () => {
    const { cardId } = await newCard();
    await issuer.faults({ failNext: 1 });
    const failed = await setStatus("sc-unavailable", cardId, "FROZEN");
    expect(failed.errors?.[0]?.extensions?.code).toBe("ISSUER_UNAVAILABLE");
    expect(await heldStatus(cardId)).toBe("ACTIVE");
    const retried = await setStatus("sc-unavailable", cardId, "FROZEN");
    expect(retried.data?.setCardStatus).toMatchObject({ card: { status: "FROZEN" } });
  });

  it("the database refuses a second ACTIVE card for one identity, whatever writes it", async () => {
    const { cardId, identityId } = await newCard();
    const row = await t.db.prisma.card.findFirstOrThrow({ where: { id: cardId } });
    const second = { ...row, id: "00000000-0000-4000-8000-00000000abcd", createdAt: undefined, updatedAt: undefined };
    await expect(t.db.prisma.card.create({ data: second })).rejects.toMatchObject({ code: "P2002" });
    await expect(t.db.prisma.$executeRaw`UPDATE cards SET active_identity_id = NULL WHERE id = ${cardId}::uuid`).rejects.toThrow(
      /cards_active_identity_check/,
    );
    expect(await t.db.prisma.card.count({ where: { identityId, status: "ACTIVE" } })).toBe(1);
  });
});
