import { randomUUID } from "node:crypto";
import type { YogaInitialContext } from "graphql-yoga";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { authenticate } from "./auth/authenticate.ts";
import type { Config } from "./config.ts";
import type { Database } from "./db/database.ts";
import { createIdentityLoader } from "./domains/identities/identity.loaders.ts";
import type { Workspace } from "./generated/prisma/client.ts";
import type { IdempotentExecutor } from "./idempotency/executor.ts";
import type { MutationLogEntry } from "./idempotency/resolve-mutation.ts";

/** What lives as long as the app: shared by every request. */
export interface Services {
  config: Config;
  db: Database;
  idempotency: IdempotentExecutor;
  logger: Logger;
  metrics: Registry;
}

export interface Context {
  request: Request;
  requestId: string;
  workspace: Workspace;
  services: Services;
  loaders: ReturnType<typeof createLoaders>;
  /** What each mutation field did with its key, for `extensions.idempotency`. */
  mutationLog: MutationLogEntry[];
}

export async function createContext(services: Services, initial: YogaInitialContext): Promise<Context> {
  const workspace = await authenticate(services.db.prisma, initial.request);
  return {
    request: initial.request,
    requestId: initial.request.headers.get("x-request-id")?.slice(0, 128) ?? randomUUID(),
    workspace,
    services,
    loaders: createLoaders(services, workspace.id),
    mutationLog: [],
  };
}

function createLoaders(services: Services, workspaceId: string) {
  return {
    identity: createIdentityLoader(services.db.prisma, workspaceId),
  };
}
