import { randomInt, randomUUID } from "node:crypto";

export type IssuerCardStatus = "ACTIVE" | "FROZEN" | "DELETED";
export const ISSUER_CARD_STATUSES: readonly IssuerCardStatus[] = ["ACTIVE", "FROZEN", "DELETED"];

/** A card as the issuer's API shows it. */
export interface IssuerCard {
  id: string;
  userId: string;
  last4: string;
  expMonth: number;
  expYear: number;
  status: IssuerCardStatus;
}

/** Failures the next requests will meet; see `POST /_faults`. */
export interface Faults {
  /** The next n creations take effect, then the connection is dropped before any response. */
  loseNextCreates: number;
  /** The next n requests answer 503 and change nothing. */
  failNext: number;
  /** Every response waits this long. */
  delayMs: number;
}

export const NO_FAULTS: Readonly<Faults> = { loseNextCreates: 0, failNext: 0, delayMs: 0 };

export class CardLimitError extends Error {
  constructor() {
    super("maximum number of cards allowed");
  }
}

export class CardDeletedError extends Error {
  constructor() {
    super("card is deleted");
  }
}

/**
 * What a card issuer knows, in memory: its cards, oldest first, and a limit of cards that are not
 * DELETED per user. Like a real issuer it has no idempotency key: every creation is a new card.
 */
export class IssuerState {
  private readonly cards = new Map<string, IssuerCard>();
  private readonly byUser = new Map<string, IssuerCard[]>();
  faults: Faults = { ...NO_FAULTS };
  /** API requests received (the fault endpoint's own excluded). */
  requests = 0;
  /** The W3C traceparent headers of the last API requests that carried one, oldest first (the simulator keeps 100). */
  readonly traceparents: string[] = [];

  constructor(
    readonly cardLimit: number,
    cards: IssuerCard[] = [],
    /** Told after every change, with every card (so a simulator can keep them across restarts). */
    private readonly changed: (cards: IssuerCard[]) => void = () => {},
  ) {
    for (const card of cards) {
      this.cards.set(card.id, { ...card });
      this.byUser.set(card.userId, [...(this.byUser.get(card.userId) ?? []), this.cards.get(card.id)!]);
    }
  }

  create(userId: string): IssuerCard {
    const owned = this.byUser.get(userId) ?? [];
    if (owned.filter((card) => card.status !== "DELETED").length >= this.cardLimit) throw new CardLimitError();
    const card: IssuerCard = {
      id: randomUUID(),
      userId,
      last4: String(randomInt(10_000)).padStart(4, "0"),
      expMonth: randomInt(1, 13),
      expYear: new Date().getUTCFullYear() + 3,
      status: "ACTIVE",
    };
    this.cards.set(card.id, card);
    this.byUser.set(userId, [...owned, card]);
    this.changed(this.all());
    return { ...card };
  }

  list(userId: string): IssuerCard[] {
    return (this.byUser.get(userId) ?? []).map((card) => ({ ...card }));
  }

  /** Undefined for an unknown card. A DELETED card stays DELETED. */
  setStatus(id: string, status: IssuerCardStatus): IssuerCard | undefined {
    const card = this.cards.get(id);
    if (!card) return undefined;
    if (card.status === "DELETED" && status !== "DELETED") throw new CardDeletedError();
    card.status = status;
    this.changed(this.all());
    return { ...card };
  }

  /** Every card, oldest first (for audits and tests). */
  all(): IssuerCard[] {
    return [...this.cards.values()].map((card) => ({ ...card }));
  }
}
