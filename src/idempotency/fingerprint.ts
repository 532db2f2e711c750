import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import { inputNotCanonical } from "./errors.ts";

/**
 * SHA-256 of the mutation's field name and the canonical JSON (RFC 8785: keys sorted, no
 * whitespace) of its input without clientMutationId. GraphQL has already applied defaults.
 */
export function fingerprint(mutation: string, input: Record<string, unknown>): string {
  let json: string | undefined;
  try {
    json = canonicalize(toJson(input));
  } catch (error) {
    throw inputNotCanonical(
      /surrogate/i.test(String(error)) ? "it holds text that is not well-formed Unicode (a lone surrogate)" : String(error),
    );
  }
  return createHash("sha256")
    .update(mutation)
    .update("\n")
    .update(json ?? "null")
    .digest("hex");
}

/** Scalars GraphQL parsed into non-JSON values go back to their wire form. */
function toJson(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toJson);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, toJson(v)]),
    );
  }
  return value;
}
