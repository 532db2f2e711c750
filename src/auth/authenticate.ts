import { GraphQLError } from "graphql";
import { LRUCache } from "lru-cache";
import type { PrismaClient, Workspace } from "../generated/prisma/client.ts";
import { hashSecret } from "./tokens.ts";
import { findWorkspaceByToken } from "./workspaces.ts";

const BEARER = /^Bearer\s+(\S{1,512})\s*$/i;

/**
 * Finds the workspace a request's token belongs to. Answers are cached for a short while (tokens
 * are looked up by their hash, as stored), so most requests spend no query on auth.
 */
export class Authenticator {
  private readonly cache: LRUCache<string, Workspace>;

  constructor(
    private readonly prisma: PrismaClient,
    options: { ttlMs?: number; maxEntries?: number } = {},
  ) {
    this.cache = new LRUCache({ max: options.maxEntries ?? 10_000, ttl: options.ttlMs ?? 30_000 });
  }

  /** The workspace whose token the request carries, or a 401 before anything executes. */
  async authenticate(request: Request): Promise<Workspace> {
    const header = request.headers.get("authorization");
    const token = header ? BEARER.exec(header)?.[1] : undefined;
    const workspace = token ? await this.lookUp(token) : undefined;
    if (!workspace) {
      throw new GraphQLError(
        header ? "The workspace token is not valid." : "Missing workspace token: send Authorization: Bearer <token>.",
        { extensions: { code: "UNAUTHENTICATED", http: { status: 401, headers: { "WWW-Authenticate": "Bearer" } } } },
      );
    }
    return workspace;
  }

  private async lookUp(token: string): Promise<Workspace | undefined> {
    // Keyed by the hash, so the cache holds no token in clear.
    const tokenHash = hashSecret(token);
    const cached = this.cache.get(tokenHash);
    if (cached) return cached;
    const workspace = await findWorkspaceByToken(this.prisma, token);
    if (workspace) this.cache.set(tokenHash, workspace);
    return workspace ?? undefined;
  }
}
