import type { Prisma } from "../generated/prisma/client.ts";

/**
 * A value for a Json column, written exactly as given. Prisma 7 copies a JSON object key by key
 * with plain assignment before writing it, which silently drops any key named "__proto__" (at any
 * depth). Handed over as JSON text, in the tagged form Prisma's own protocol uses for JSON values,
 * every key is kept. test/idempotency/json-inputs.test.ts fails if an upgrade changes this.
 */
export function exactJson(value: unknown): Prisma.InputJsonValue {
  const text = JSON.stringify(value);
  return { toJSON: () => ({ $type: "Json", value: text }) } as unknown as Prisma.InputJsonValue;
}
