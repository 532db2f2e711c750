import { GraphQLError } from "graphql";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";

/**
 * Requests per second per workspace, per server process (a token bucket refilled each second). It
 * bounds how often, not how long: a few slow requests hold connections all the same, which the
 * limits on attempts (attemptLimits in config.ts) keep to a workspace's share. 0 turns it off.
 */
export class WorkspaceRateLimiter {
  private readonly limiter: RateLimiterMemory | undefined;

  constructor(requestsPerSecond: number) {
    this.limiter = requestsPerSecond > 0 ? new RateLimiterMemory({ points: requestsPerSecond, duration: 1 }) : undefined;
  }

  /** Spends one request of the workspace's budget, or refuses with 429 before anything executes. */
  async consume(workspaceId: string): Promise<void> {
    if (!this.limiter) return;
    try {
      await this.limiter.consume(workspaceId);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      const retryAfterMs = Math.max(1, error.msBeforeNext);
      throw new GraphQLError("Too many requests for this workspace; retry after retryAfterMs.", {
        extensions: {
          code: "RATE_LIMITED",
          retryAfterMs,
          http: { status: 429, headers: { "Retry-After": String(Math.ceil(retryAfterMs / 1000)) } },
        },
      });
    }
  }
}
