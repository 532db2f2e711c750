import type { PrismaClient } from "../src/generated/prisma/client.ts";
import type { IdempotentRequest, IdempotentResult, MutationRunner } from "../src/idempotency/executor.ts";
import { UserError } from "../src/schema/errors.ts";

/** A request with this header is answered by the baseline app (see bench/server.ts). */
export const BASELINE_HEADER = "x-onceql-bench-baseline";

/**
 * The benchmark's baseline: each mutation's resolver run as it would be with no idempotency at
 * all, straight on the client (autocommit), with no claim, no transaction and no stored outcome.
 */
export class WithoutIdempotency implements MutationRunner {
  constructor(private readonly prisma: PrismaClient) {}

  async run(request: IdempotentRequest): Promise<IdempotentResult> {
    try {
      return { status: "EXECUTED", outcome: { ok: true, payload: await request.execute(this.prisma) } };
    } catch (error) {
      if (error instanceof UserError) return { status: "EXECUTED", outcome: { ok: false, error } };
      throw error;
    }
  }

  replaysNotStored(): number {
    return 0;
  }

  async flushCounts(): Promise<void> {}

  async close(): Promise<void> {}
}
