import type { IdempotentRequest, IdempotentResult, MutationRunner } from "@onceql/pothos-plugin-idempotency";
import type { PrismaClient } from "../src/generated/prisma/client.ts";
import { UserError } from "../src/schema/errors.ts";

/** A request with this header is answered by the baseline app (see bench/server.ts). */
export const BASELINE_HEADER = "x-onceql-bench-baseline";

/**
 * The benchmark's baseline: each mutation's resolver run as it would be with no idempotency at
 * all: no claim, no stored outcome. A mutation of one statement runs straight on the client
 * (autocommit); one that needs a transaction of its own to be correct (it locks, reads, then
 * writes: `transactional`) runs in one, as it would in any service.
 */
export class WithoutIdempotency implements MutationRunner {
  constructor(
    private readonly prisma: PrismaClient,
    /** Statements past the Prisma client, autocommit (Database.sql). */
    private readonly sql: <Row>(text: string, values: readonly unknown[]) => Promise<Row[]>,
    private readonly transactional: ReadonlySet<string> = new Set(),
  ) {}

  async run(request: IdempotentRequest): Promise<IdempotentResult> {
    const scope = {
      sql: <Row>(text: string, values: readonly unknown[] = []) => this.sql<Row>(text, values),
      checkpoint: async () => {},
      foundEarlier: <T>(answer: T) => answer,
    };
    try {
      const payload = this.transactional.has(request.mutation)
        ? await this.prisma.$transaction((tx) => request.execute(tx, scope))
        : await request.execute(this.prisma, scope);
      return { status: "EXECUTED", outcome: { ok: true, payload } };
    } catch (error) {
      if (error instanceof UserError) return { status: "EXECUTED", outcome: { ok: false, error } };
      throw error;
    }
  }

  replaysNotStored(): number {
    return 0;
  }

  async running(): Promise<undefined> {
    return undefined;
  }

  async flushCounts(): Promise<void> {}

  async close(): Promise<void> {}
}
