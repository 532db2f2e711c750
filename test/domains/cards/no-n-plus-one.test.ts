import { CreateCardDocument, type CreateCardMutation } from "@onceql/client";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestIssuer, type TestIssuer } from "../../helpers/issuer.ts";
import { startCountingApp } from "../../helpers/query-log.ts";

let issuer: TestIssuer;
let t: Awaited<ReturnType<typeof startCountingApp>>;
const identityIds: string[] = [];
beforeAll(async () => {
  issuer = await startTestIssuer();
  t = await startCountingApp({ config: { issuerUrl: issuer.url } });
  for (let i = 0; i < 6; i++) {
    const identity = await t.sdk().CreateIdentity({ input: { externalId: `n1-holder-${i}` } });
    if (identity.data.createIdentity?.__typename !== "CreateIdentityPayload") throw new Error("setup failed");
    const identityId = identity.data.createIdentity.identity.id;
    identityIds.push(identityId);
    // Two cards each: one frozen, one active.
    const first = await t.request<CreateCardMutation>(CreateCardDocument, { input: { clientMutationId: `n1-a-${i}`, identityId } });
    if (first.data?.createCard?.__typename !== "CreateCardPayload") throw new Error("setup failed");
    await t.sdk().SetCardStatus({ input: { cardId: first.data.createCard.card.id, status: "FROZEN" } });
    await t.request<CreateCardMutation>(CreateCardDocument, { input: { clientMutationId: `n1-b-${i}`, identityId } });
  }
});
afterAll(async () => {
  await t?.close();
  await issuer?.close();
});

const identitiesWithCards = (count: number) =>
  `{ ${identityIds
    .slice(0, count)
    .map((id, i) => `i${i}: identity(id: "${id}") { externalId cards { id status origin identity { externalId } } }`)
    .join(" ")} }`;

it("reads any number of identities with their cards (and each card's identity) in the same number of SQL statements", async () => {
  const forTwo = await t.statementsDuring(() => t.gql(identitiesWithCards(2)));
  let response: Awaited<ReturnType<typeof t.gql>> | undefined;
  const forSix = await t.statementsDuring(async () => (response = await t.gql(identitiesWithCards(6))));
  const identities = Object.values(response!.body.data) as {
    externalId: string;
    cards: { status: string; identity: { externalId: string } }[];
  }[];
  expect(identities.map((identity) => identity.cards.map((card) => card.status))).toEqual(identityIds.map(() => ["FROZEN", "ACTIVE"]));
  expect(identities.every((identity) => identity.cards.every((card) => card.identity.externalId === identity.externalId))).toBe(true);
  expect(forSix.length).toBe(forTwo.length);
  expect(forSix.length).toBeLessThanOrEqual(3);
});
