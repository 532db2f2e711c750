import { GraphQLError } from "graphql";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";

/**
 * Failed authentications per client address, per server process, over a minute. Past the limit an
 * address gets 429 before its token is looked up, so guessing tokens (or a flood of random ones)
 * costs the database at most `perMinute` lookups per address and minute. 0 turns it off.
 */
export class FailedAuthentications {
  private readonly limiter: RateLimiterMemory | undefined;

  constructor(perMinute: number) {
    this.limiter = perMinute > 0 ? new RateLimiterMemory({ points: perMinute, duration: 60 }) : undefined;
  }

  /**
   * Counts one failure of the address, or refuses it with 429 once it has spent them all. A lookup
   * is charged before it is made (and refunded when the token is found), so a flood sent all at
   * once is stopped as one sent in turn.
   */
  async charge(address: string): Promise<void> {
    try {
      await this.limiter?.consume(address);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      throw tooManyFailures(error.msBeforeNext);
    }
  }

  /** Gives back what a lookup was charged, once its token turned out to be good. */
  async refund(address: string): Promise<void> {
    await this.limiter?.reward(address, 1);
  }
}

function tooManyFailures(msBeforeNext: number): GraphQLError {
  const retryAfterMs = Math.max(1, msBeforeNext);
  return new GraphQLError("Too many failed authentications from this address; retry after retryAfterMs.", {
    extensions: {
      code: "RATE_LIMITED",
      retryAfterMs,
      http: { status: 429, headers: { "Retry-After": String(Math.ceil(retryAfterMs / 1000)) } },
    },
  });
}
