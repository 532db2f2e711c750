import type { TransactionClient } from "../generated/prisma/internal/prismaNamespace.ts";

export { isRetryableConflict, sqlState } from "@onceql/pothos-plugin-idempotency";
export type { TransactionClient };
