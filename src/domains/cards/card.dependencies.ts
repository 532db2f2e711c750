import type { Logger } from "pino";
import { Counter, type Registry } from "prom-client";
import type { Config } from "../../config.ts";
import { IssuerClient } from "./issuer.client.ts";

/** What the cards domain needs beyond a transaction: the issuer, and where adoptions are told. */
export interface CardDependencies {
  issuer: IssuerClient;
  /**
   * How long a card mutation waits for another one on the same identity: long enough for one
   * holder's two issuer calls, short enough to end within the key's lease.
   */
  lockTimeoutMs: number;
  /** A card found at the issuer with no row here, now held: logged and counted. */
  adopted(event: { workspaceId: string; identityId: string; cardId: string }): void;
}

export function createCardDependencies(config: Config, logger: Logger, registry: Registry): CardDependencies {
  const orphansAdopted = new Counter({
    name: "onceql_cards_orphans_adopted_total",
    help: "Cards found at the issuer with no row in this database (a lost response) and adopted by createCard",
    registers: [registry],
  });
  return {
    issuer: new IssuerClient(config.issuerUrl, config.issuerTimeoutMs),
    lockTimeoutMs: Math.max(1_000, config.idempotencyLeaseMs - 2 * config.issuerTimeoutMs - 1_000),
    adopted: ({ workspaceId, identityId, cardId }) => {
      orphansAdopted.inc();
      logger.warn(
        { workspace: workspaceId, identity: identityId, card: cardId },
        "adopted an orphan card: the issuer held it for this identity and this database did not",
      );
    },
  };
}
