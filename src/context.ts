import { randomUUID } from "node:crypto";
import type { YogaInitialContext } from "graphql-yoga";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Authenticator } from "./auth/authenticate.ts";
import type { Config } from "./config.ts";
import type { Database } from "./db/database.ts";
import { createIdentityLoader } from "./domains/identities/identity.loaders.ts";
import type { Workspace } from "./generated/prisma/client.ts";
import type { WorkspaceRateLimiter } from "./http/rate-limiter.ts";
import type { IdempotentExecutor } from "./idempotency/executor.ts";
import type { MutationLogEntry } from "./idempotency/resolve-mutation.ts";

/** What lives as long as the app: shared by every request. */
export interface Services {
  config: Config;
  auth: Authenticator;
  rateLimiter: WorkspaceRateLimiter;
  db: Database;
  idempotency: IdempotentExecutor;
  logger: Logger;
  metrics: Registry;
  /** Only the benchmark sets this: it lets a request skip the idempotency wrapper, to measure its cost. */
  allowBenchmarkBypass?: boolean;
}

export interface Context {
  request: Request;
  requestId: string;
  workspace: Workspace;
  services: Services;
  loaders: ReturnType<typeof createLoaders>;
  /** What each mutation field did with its key, for `extensions.idempotency`. */
  mutationLog: MutationLogEntry[];
  /** The benchmark's baseline: run mutations without the wrapper (see Services.allowBenchmarkBypass). */
  bypassIdempotency: boolean;
}

export const BENCHMARK_BYPASS_HEADER = "x-onceql-benchmark-bypass";

export async function createContext(services: Services, initial: YogaInitialContext): Promise<Context> {
  const workspace = await services.auth.authenticate(initial.request);
  await services.rateLimiter.consume(workspace.id);
  return {
    request: initial.request,
    requestId: initial.request.headers.get("x-request-id")?.slice(0, 128) ?? randomUUID(),
    workspace,
    services,
    loaders: createLoaders(services, workspace.id),
    mutationLog: [],
    bypassIdempotency: services.allowBenchmarkBypass === true && initial.request.headers.get(BENCHMARK_BYPASS_HEADER) === "1",
  };
}

function createLoaders(services: Services, workspaceId: string) {
  return {
    identity: createIdentityLoader(services.db.prisma, workspaceId),
  };
}
