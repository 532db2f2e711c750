import { GraphQLError } from "graphql";
import { LRUCache } from "lru-cache";
import type { PrismaClient, Workspace } from "../generated/prisma/client.ts";
import { FailedAuthentications } from "./failed-authentications.ts";
import { hashSecret } from "./tokens.ts";
import { findWorkspaceByToken, isWellFormedToken } from "./workspace-tokens.ts";

/**
 * How long a server keeps answering a token from memory: a revoked token is refused by every
 * server within this time, and a token whose grace ends sooner is kept only until then.
 */
export const TOKEN_CACHE_MS = 5_000;
/** Tokens are 192 random bits: one unknown now is never issued later, so this only bounds memory. */
export const UNKNOWN_TOKEN_CACHE_MS = 60_000;

const BEARER = /^Bearer\s+(\S{1,512})\s*$/i;

export interface AuthenticatorOptions {
  ttlMs?: number;
  unknownTtlMs?: number;
  maxEntries?: number;
  /** Failed authentications an address may make per minute before it gets 429 (0: no limit). */
  failuresPerMinute: number;
}

/**
 * Finds the workspace a request's token belongs to. Tokens are looked up by their hash, as stored;
 * known and unknown ones alike are remembered for a short while, so most requests spend no query
 * on auth, and an address that keeps failing is refused before it costs one.
 */
export class Authenticator {
  private readonly known: LRUCache<string, Workspace>;
  private readonly unknown: LRUCache<string, true>;
  private readonly failures: FailedAuthentications;
  private readonly lookingUp = new Map<string, Promise<Workspace | undefined>>();
  private readonly ttlMs: number;

  constructor(
    private readonly prisma: PrismaClient,
    options: AuthenticatorOptions,
  ) {
    const max = options.maxEntries ?? 10_000;
    this.ttlMs = options.ttlMs ?? TOKEN_CACHE_MS;
    this.known = new LRUCache({ max, ttl: this.ttlMs });
    this.unknown = new LRUCache({ max, ttl: options.unknownTtlMs ?? UNKNOWN_TOKEN_CACHE_MS });
    this.failures = new FailedAuthentications(options.failuresPerMinute);
  }

  /**
   * The workspace whose token the request carries, or a 401 before anything executes (429 once
   * `clientAddress` has failed too often).
   */
  async authenticate(request: Request, clientAddress: string): Promise<Workspace> {
    const header = request.headers.get("authorization");
    const token = header ? BEARER.exec(header)?.[1] : undefined;
    const { workspace, charged } = token ? await this.lookUp(token, clientAddress) : { workspace: undefined, charged: false };
    if (workspace) return workspace;
    if (!charged) await this.failures.charge(clientAddress);
    throw new GraphQLError(header ? "The workspace token is not valid." : "Missing workspace token: send Authorization: Bearer <token>.", {
      extensions: { code: "UNAUTHENTICATED", http: { status: 401, headers: { "WWW-Authenticate": "Bearer" } } },
    });
  }

  /** `charged`: this request made the lookup, and its address was charged a failure for it. */
  private async lookUp(token: string, clientAddress: string): Promise<{ workspace: Workspace | undefined; charged: boolean }> {
    // Keyed by the hash, so the caches hold no token in clear.
    const tokenHash = hashSecret(token);
    const cached = this.known.get(tokenHash);
    if (cached) return { workspace: cached, charged: false };
    if (this.unknown.has(tokenHash) || !isWellFormedToken(token)) return { workspace: undefined, charged: false };
    // One lookup per token at a time: the requests of a busy client whose cache entry just ended
    // wait for the same answer instead of each asking the database (and each being charged).
    const pending = this.lookingUp.get(tokenHash);
    if (pending) return { workspace: await pending, charged: false };
    const lookup = this.chargedLookUp(token, tokenHash, clientAddress).finally(() => this.lookingUp.delete(tokenHash));
    this.lookingUp.set(tokenHash, lookup);
    return { workspace: await lookup, charged: true };
  }

  private async chargedLookUp(token: string, tokenHash: string, clientAddress: string): Promise<Workspace | undefined> {
    await this.failures.charge(clientAddress);
    const match = await findWorkspaceByToken(this.prisma, token);
    if (!match) {
      this.unknown.set(tokenHash, true);
      return undefined;
    }
    await this.failures.refund(clientAddress);
    const untilExpiry = match.expiresAt ? match.expiresAt.getTime() - Date.now() : this.ttlMs;
    this.known.set(tokenHash, match.workspace, { ttl: Math.max(1, Math.min(this.ttlMs, untilExpiry)) });
    return match.workspace;
  }
}
