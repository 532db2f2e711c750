import { userError } from "../../schema/errors.ts";

export class CardNotFoundError extends userError("CARD_NOT_FOUND") {
  constructor(readonly cardId: string) {
    super(`No card ${JSON.stringify(cardId)} in this workspace (a DELETED card cannot change again).`);
  }
}

/** The issuer refused another card for this identity: it holds as many as it allows. */
export class CardLimitReachedError extends userError("CARD_LIMIT_REACHED") {
  constructor(readonly identityId: string) {
    super(`The card issuer allows no more cards for identity ${JSON.stringify(identityId)}; delete one first.`);
  }
}

/** An identity has at most one ACTIVE card: another must be frozen or deleted before this one is activated. */
export class IdentityHasActiveCardError extends userError("IDENTITY_HAS_ACTIVE_CARD") {
  constructor(
    readonly identityId: string,
    readonly activeCardId: string,
  ) {
    super(`Identity ${JSON.stringify(identityId)} already has an ACTIVE card, ${JSON.stringify(activeCardId)}; freeze or delete it first.`);
  }
}
