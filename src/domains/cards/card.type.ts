import { CardOrigin, CardStatus } from "../../generated/prisma/client.ts";
import { builder } from "../../schema/builder.ts";
import { userErrorType } from "../../schema/user-error.type.ts";
import { CardLimitReachedError, CardNotFoundError, IdentityHasActiveCardError } from "./card.errors.ts";

export const CardStatusEnum = builder.enumType(CardStatus, {
  name: "CardStatus",
  description: "ACTIVE can be used; FROZEN is paused and can be activated again; DELETED is final.",
});

builder.enumType(CardOrigin, {
  name: "CardOrigin",
  description:
    "ISSUED: this database asked the issuer for it. ADOPTED: found at the issuer with no row here (an attempt whose answer was lost) and taken over.",
});

export const Card = builder.prismaObject("Card", {
  description: "A card held at the card issuer, under the issuer's id. An identity has at most one ACTIVE card.",
  // A card read from a stored outcome carries its row, so its relations load by this unique key.
  findUnique: (card) => ({ workspaceId_id: { workspaceId: card.workspaceId, id: card.id } }),
  fields: (t) => ({
    id: t.exposeID("id"),
    last4: t.exposeString("last4"),
    expMonth: t.exposeInt("expMonth"),
    expYear: t.exposeInt("expYear"),
    status: t.expose("status", { type: CardStatusEnum }),
    origin: t.expose("origin", { type: CardOrigin }),
    identity: t.relation("identity"),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

builder.prismaObjectField("Identity", "cards", (t) =>
  t.relation("cards", {
    description: "The identity's cards, oldest first, DELETED ones included.",
    query: { orderBy: [{ createdAt: "asc" }, { id: "asc" }] },
  }),
);

userErrorType(CardNotFoundError, { fields: (t) => ({ cardId: t.exposeID("cardId") }) });
userErrorType(CardLimitReachedError, { fields: (t) => ({ identityId: t.exposeID("identityId") }) });
userErrorType(IdentityHasActiveCardError, {
  fields: (t) => ({ identityId: t.exposeID("identityId"), activeCardId: t.exposeID("activeCardId") }),
});
