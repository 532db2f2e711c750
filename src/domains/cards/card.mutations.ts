import { defineIdempotentMutation } from "../../idempotency/mutation-field.ts";
import { rowIdField } from "../../schema/row-ids.ts";
import { IdentityNotFoundError } from "../identities/identity.errors.ts";
import { CardLimitReachedError, CardNotFoundError, IdentityHasActiveCardError } from "./card.errors.ts";
import { createCard, setCardStatus } from "./card.service.ts";
import { Card, CardStatusEnum } from "./card.type.ts";

defineIdempotentMutation("createCard", {
  description:
    "The identity's ACTIVE card: the one held here, else one the issuer holds that this database lost track of (adopted), else a new one from the issuer.",
  input: (t) => ({ identityId: rowIdField(t, IdentityNotFoundError) }),
  payload: { card: Card },
  errors: [CardLimitReachedError, IdentityNotFoundError],
  // Not onlyDatabaseEffects: the card issuer is called, and must never be for a key another attempt holds.
  run: async (input, scope) => ({
    card: await createCard(scope, input.identityId, scope.services.cards),
  }),
});

defineIdempotentMutation("setCardStatus", {
  description: "Freezes, activates or deletes a card: the issuer first, then this database. DELETED is final.",
  input: (t) => ({
    cardId: rowIdField(t, CardNotFoundError),
    status: t.field({ type: CardStatusEnum, required: true }),
  }),
  payload: { card: Card },
  errors: [CardNotFoundError, IdentityHasActiveCardError],
  // Not onlyDatabaseEffects: the card issuer is called, and must never be for a key another attempt holds.
  run: async (input, { tx, workspaceId, services }) => ({
    card: await setCardStatus(tx, workspaceId, input, services.cards),
  }),
});
