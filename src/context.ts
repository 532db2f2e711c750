import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { MutationRunner } from "@onceql/pothos-plugin-idempotency";
import type { YogaInitialContext } from "graphql-yoga";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Authenticator } from "./auth/authenticate.ts";
import type { Config } from "./config.ts";
import type { Database } from "./db/database.ts";
import type { CardDependencies } from "./domains/cards/card.dependencies.ts";
import type { Workspace } from "./generated/prisma/client.ts";
import { clientAddress } from "./http/client-address.ts";
import { inexactNumbersOf } from "./http/exact-numbers.ts";
import type { WorkspaceRateLimiter } from "./http/rate-limiter.ts";
import type { InexactNumber } from "./schema/exact-numbers.ts";

/** What lives as long as the app: shared by every request. */
export interface Services {
  config: Config;
  auth: Authenticator;
  rateLimiter: WorkspaceRateLimiter;
  db: Database;
  idempotency: MutationRunner;
  logger: Logger;
  metrics: Registry;
  /** The card issuer and the adoption log and counter. */
  cards: CardDependencies;
}

export interface Context {
  request: Request;
  requestId: string;
  workspace: Workspace;
  services: Services;
  loaders: ReturnType<typeof createLoaders>;
  /** Numbers of this operation's variables that were read as other numbers (see src/http/exact-numbers.ts). */
  inexactNumbers: readonly InexactNumber[];
}

export async function createContext(services: Services, initial: YogaInitialContext & { req?: IncomingMessage }): Promise<Context> {
  const client = clientAddress(initial.request, initial.req, services.config.trustedProxyHops);
  const workspace = await services.auth.authenticate(initial.request, client);
  await services.rateLimiter.consume(workspace.id);
  return {
    request: initial.request,
    requestId: initial.request.headers.get("x-request-id")?.slice(0, 128) ?? randomUUID(),
    workspace,
    services,
    loaders: createLoaders(services, workspace.id),
    inexactNumbers: inexactNumbersOf(initial.params),
  };
}

/**
 * Per-request DataLoaders, scoped to the workspace, for what the prisma plugin's relations cannot
 * express (aggregates such as balances).
 */
function createLoaders(_services: Services, _workspaceId: string) {
  return {};
}
