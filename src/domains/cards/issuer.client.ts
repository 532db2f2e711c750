import { canonicalRowId } from "../../schema/row-ids.ts";
import { CardLimitReachedError } from "./card.errors.ts";
import { IssuerProtocolError, issuerUnavailable } from "./issuer.errors.ts";

export type IssuerCardStatus = "ACTIVE" | "FROZEN" | "DELETED";

/** A card as the issuer shows it; `userId` is the onceql identity's id. */
export interface IssuerCard {
  id: string;
  userId: string;
  last4: string;
  expMonth: number;
  expYear: number;
  status: IssuerCardStatus;
}

/** What the issuer answers past its per-user limit, the only 400 that is an answer rather than a bug. */
const CARD_LIMIT_MESSAGE = "maximum number of cards allowed";

/**
 * The card issuer's HTTP API. Every call gives up after `timeoutMs`; none is ever retried here,
 * least of all a create, which the issuer would carry out twice: the caller's retry, with the same
 * clientMutationId, reconciles instead (it adopts a card a lost attempt left behind).
 */
export class IssuerClient {
  constructor(
    private readonly baseUrl: string | undefined,
    readonly timeoutMs: number,
  ) {}

  async listCards(userId: string): Promise<IssuerCard[]> {
    const { body } = await this.call("GET", `/users/${encodeURIComponent(userId)}/cards`);
    const cards = (body as { cards?: unknown } | undefined)?.cards;
    if (!Array.isArray(cards)) throw new IssuerProtocolError("the issuer's card list has no cards array");
    return cards.map(requireCard);
  }

  /** One new card; CardLimitReachedError when the issuer refuses it for the user's limit. */
  async createCard(userId: string): Promise<IssuerCard> {
    const { body } = await this.call("POST", `/users/${encodeURIComponent(userId)}/cards`, undefined, (status, answer) =>
      status === 400 && (answer as { message?: unknown } | undefined)?.message === CARD_LIMIT_MESSAGE
        ? new CardLimitReachedError(userId)
        : undefined,
    );
    return requireCard(body);
  }

  async setCardStatus(cardId: string, status: IssuerCardStatus): Promise<IssuerCard> {
    const { body } = await this.call("PATCH", `/cards/${encodeURIComponent(cardId)}`, { status });
    return requireCard(body);
  }

  private async call(
    method: string,
    path: string,
    payload?: unknown,
    refusal?: (status: number, body: unknown) => Error | undefined,
  ): Promise<{ status: number; body: unknown }> {
    if (!this.baseUrl) throw new Error("no card issuer is configured (ONCEQL_ISSUER_URL)");
    let response: Response;
    let text: string;
    try {
      response = await fetch(new URL(path, this.baseUrl), {
        method,
        headers: payload === undefined ? {} : { "content-type": "application/json" },
        body: payload === undefined ? undefined : JSON.stringify(payload),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      throw issuerUnavailable(describeFailure(error, this.timeoutMs));
    }
    if (response.status >= 500) throw issuerUnavailable(`${method} ${path} answered ${response.status}`);
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      throw new IssuerProtocolError(`${method} ${path} answered ${response.status} with a body that is not JSON`, response.status);
    }
    if (response.status >= 200 && response.status < 300) return { status: response.status, body };
    const refused = refusal?.(response.status, body);
    if (refused) throw refused;
    const message = (body as { message?: unknown } | undefined)?.message;
    throw new IssuerProtocolError(
      `${method} ${path} answered ${response.status}: ${String(message ?? text).slice(0, 200)}`,
      response.status,
    );
  }
}

function describeFailure(error: unknown, timeoutMs: number): string {
  if ((error as { name?: unknown })?.name === "TimeoutError") return `no answer within ${timeoutMs} ms`;
  const cause = (error as { cause?: { code?: unknown; message?: unknown } })?.cause;
  const detail = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
  return `unreachable or the connection dropped: ${String(detail)}`;
}

const STATUSES: readonly unknown[] = ["ACTIVE", "FROZEN", "DELETED"];

function requireCard(value: unknown): IssuerCard {
  const card = value as Partial<IssuerCard> | undefined;
  // Compared with the ids this database holds (canonical): an issuer may spell them otherwise.
  const id = typeof card?.id === "string" ? canonicalRowId(card.id) : undefined;
  if (
    !card ||
    id === undefined ||
    typeof card.userId !== "string" ||
    typeof card.last4 !== "string" ||
    !/^\d{4}$/.test(card.last4) ||
    !Number.isInteger(card.expMonth) ||
    !Number.isInteger(card.expYear) ||
    !STATUSES.includes(card.status)
  ) {
    throw new IssuerProtocolError(`the issuer answered something that is not a card: ${JSON.stringify(value)?.slice(0, 200)}`);
  }
  return {
    id,
    userId: card.userId,
    last4: card.last4,
    expMonth: card.expMonth!,
    expYear: card.expYear!,
    status: card.status!,
  };
}
