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
    const reason = error instanceof Error ? error.message : String(error);
    throw inputNotCanonical(/surrogate/i.test(reason) ? "it holds text that is not well-formed Unicode (a lone surrogate)" : reason);
  }
  const canonical = json ?? "null";
  return { fingerprint: createHash("sha256").update(mutation).update("\n").update(canonical).digest("hex"), canonical };
}

/** The longest canonical input kept whole beside an executed outcome. */
export const MAX_KEPT_INPUT_CHARS = 64 * 1024;

/** What a record keeps of an input kept only as digests: a tag no input (always an object) has. */
const DIGESTS = "sha256-fields";

/**
 * What the record keeps of the input, for `differingFields` on a reuse of its key (a replay needs
 * only the fingerprint). The canonical JSON itself when the outcome is the mutation's payload and
 * the input is at most MAX_KEPT_INPUT_CHARS; otherwise (an answer the domain refused, or a large
 * input) a digest of each top-level field: what was refused is never kept, a reuse still names
 * the top-level fields that changed (`lines`, not `lines.3.quantity`), and a megabyte sent once is
 * not kept for the TTL.
 */
export function keptInput(canonical: string, outcome: "payload" | "refused"): string {
  if (outcome === "payload" && canonical.length <= MAX_KEPT_INPUT_CHARS) return canonical;
  return JSON.stringify([DIGESTS, fieldDigests(JSON.parse(canonical) as Record<string, unknown>)]);
}

function fieldDigests(input: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(input).map(([field, value]) => [field, createHash("sha256").update(JSON.stringify(value)).digest("base64url")]),
  );
}

/**
 * The paths of the input's fields that differ from what a record kept of its first input
 * (see keptInput): in full, or the top-level fields only when it kept digests.
 */
export function differingFromKept(kept: string, canonical: string): string[] {
  const stored = JSON.parse(kept) as unknown;
  const sent = JSON.parse(canonical) as Record<string, unknown>;
  if (!Array.isArray(stored) || stored[0] !== DIGESTS) return differingFields(stored, sent);
  return differingFields(stored[1], fieldDigests(sent));
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

/**
 * Scalars GraphQL parsed into non-JSON values go back to their wire form. `path` is one stack,
 * pushed and popped on the way down (a failure stops the walk, so it is never unwound).
 */
function toJson(value: unknown, path: string[] = []): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Date) return value.toISOString();
  // Only a JSON number too large to read (1e400) arrives as Infinity: JSON has no form for it.
  if (typeof value === "number" && !Number.isFinite(value)) {
    throw new Error(`${path.join(".")} holds a number too large for JSON (such as 1e400); send it as a string`);
  }
  if (Array.isArray(value)) return value.map((item, i) => within(path, String(i), item));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, within(path, k, v)]),
    );
  }
  return value;
}

function within(path: string[], key: string, value: unknown): unknown {
  path.push(key);
  const json = toJson(value, path);
  path.pop();
  return json;
}
