import { GraphQLError } from "graphql";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";

/**
 * Failed authentications per client address, per server process, over a minute. Past the limit an
 * address gets 429 before its token is looked up, so guessing tokens (or a flood of random ones)
 * costs the database at most `perMinute` lookups per address and minute. 0 turns it off.
 */
export class FailedAuthentications {
  private readonly limiter: RateLimiterMemory | undefined;

  constructor(private readonly perMinute: number) {
    this.limiter = perMinute > 0 ? new RateLimiterMemory({ points: perMinute, duration: 60 }) : undefined;
  }

  /** Refuses with 429 an address that has spent its failures, before anything is looked up. */
  async refuseIfBlocked(address: string): Promise<void> {
    const spent = await this.limiter?.get(address);
    if (spent && spent.consumedPoints >= this.perMinute) throw tooManyFailures(spent.msBeforeNext);
  }

  /** Counts one failure of the address; the one that goes past the limit is answered 429, not 401. */
  async count(address: string): Promise<void> {
    try {
      await this.limiter?.consume(address);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      throw tooManyFailures(error.msBeforeNext);
    }
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
