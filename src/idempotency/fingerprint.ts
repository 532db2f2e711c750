import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import { inputNotCanonical } from "./errors.ts";

/** What identifies an input: its canonical JSON, and the SHA-256 of it with the mutation's name. */
export interface Fingerprint {
  fingerprint: string;
  /** RFC 8785 canonical JSON of the input without clientMutationId (keys sorted, no whitespace). */
  canonical: string;
}

/**
 * SHA-256 of the mutation's field name and the canonical JSON (RFC 8785: keys sorted, no
 * whitespace) of its input without clientMutationId. GraphQL has already applied defaults.
 */
export function fingerprintOf(mutation: string, input: Record<string, unknown>): Fingerprint {
  let json: string | undefined;
  try {
    json = canonicalize(toJson(input));
  } catch (error) {
    throw inputNotCanonical(
      /surrogate/i.test(String(error)) ? "it holds text that is not well-formed Unicode (a lone surrogate)" : String(error),
    );
  }
  const canonical = json ?? "null";
  return { fingerprint: createHash("sha256").update(mutation).update("\n").update(canonical).digest("hex"), canonical };
}

/**
 * The paths of the fields whose values differ between two inputs (`amount.value`, `lines.1.sku`),
 * a field present in only one of them included: what a reused clientMutationId changed.
 */
export function differingFields(stored: unknown, sent: unknown, path: string[] = []): string[] {
  if (isObject(stored) && isObject(sent)) {
    const keys = [...new Set([...Object.keys(stored), ...Object.keys(sent)])].sort();
    return keys.flatMap((key) =>
      Object.hasOwn(stored, key) && Object.hasOwn(sent, key)
        ? differingFields(stored[key], sent[key], [...path, key])
        : [[...path, key].join(".")],
    );
  }
  if (Array.isArray(stored) && Array.isArray(sent)) {
    return Array.from({ length: Math.max(stored.length, sent.length) }, (_, i) =>
      i < stored.length && i < sent.length ? differingFields(stored[i], sent[i], [...path, String(i)]) : [[...path, String(i)].join(".")],
    ).flat();
  }
  return JSON.stringify(stored) === JSON.stringify(sent) ? [] : [path.join(".")];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
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
