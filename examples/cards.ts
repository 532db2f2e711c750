// Gives a user a card, loses the answer on purpose and retries: the retry is a replay, the same
// card, never a second one at the issuer. Then freezes the card and activates it again. Run against
// a server (`npm start` runs an issuer simulator when ONCEQL_ISSUER_URL is unset):
//   ONCEQL_URL=http://127.0.0.1:4000/graphql ONCEQL_TOKEN=oq_ws_... npx tsx --conditions=onceql-source examples/cards.ts
import { randomUUID } from "node:crypto";
import { createClient } from "@onceql/client";

const onceql = createClient({ url: process.env.ONCEQL_URL ?? "http://127.0.0.1:4000/graphql", token: process.env.ONCEQL_TOKEN ?? "" });

const identity = await onceql.CreateIdentity({ input: { externalId: `card-holder-${randomUUID()}` } });
if (identity.data.createIdentity?.__typename !== "CreateIdentityPayload") throw new Error("createIdentity failed");
const identityId = identity.data.createIdentity.identity.id;

// Pick the key once, before the first attempt, and keep it for every retry of this operation.
const input = { clientMutationId: randomUUID(), identityId };
const first = await onceql.CreateCard({ input });
const created = first.data.createCard;
if (created?.__typename !== "CreateCardPayload") throw new Error(`createCard failed: ${created?.__typename}`);
console.log(`card ${created.card.id} (•••• ${created.card.last4}), ${created.card.status}, ${created.card.origin}`);

// As if the response had been lost: the same call again.
const retry = await onceql.CreateCard({ input });
const replayed = retry.data.createCard;
if (replayed?.__typename !== "CreateCardPayload") throw new Error("the retry should replay the payload");
console.log(`retry replayed: ${retry.replayed}, same card: ${replayed.card.id === created.card.id}`);

for (const status of ["FROZEN", "ACTIVE"] as const) {
  const changed = await onceql.SetCardStatus({ input: { cardId: created.card.id, status } });
  if (changed.data.setCardStatus?.__typename !== "SetCardStatusPayload") throw new Error(`setCardStatus ${status} failed`);
  console.log(`card is now ${changed.data.setCardStatus.card.status}`);
}

const cards = await onceql.IdentityCards({ id: identityId });
console.log(`cards of the identity: ${cards.data.identity?.cards.length}`);
