import { InvalidInputError } from "./errors.ts";

export const MAX_JSON_BYTES = 16 * 1024;
/** How deep a JSON value may nest; deeper input is refused before anything looks into it. */
export const MAX_JSON_DEPTH = 32;

/**
 * A string field that must hold between `min` and `max` characters of storable text. Characters
 * are Unicode code points, as PostgreSQL counts text (char_length, varchar(n)): an emoji is one,
 * not the two UTF-16 units of JavaScript's `length`; a combining accent is one of its own.
 */
export function requireLength(field: string, value: string, min: number, max: number): string {
  const length = characterCount(value);
  if (length < min || length > max) {
    throw new InvalidInputError(field, `${field} must be ${min}–${max} characters long, got ${length}`);
  }
  return requireStorableText(field, value);
}

/** Code points in `value` (a lone surrogate counts as one), without copying it into an array. */
function characterCount(value: string): number {
  let count = 0;
  for (const _ of value) count++;
  return count;
}

/** A free-form JSON field, bounded so one request cannot store megabytes. */
export function requireJsonSize(field: string, value: unknown): unknown {
  const size = Buffer.byteLength(JSON.stringify(value) ?? "");
  if (size > MAX_JSON_BYTES) {
    throw new InvalidInputError(field, `${field} must be at most ${MAX_JSON_BYTES} bytes of JSON, got ${size}`);
  }
  forEachString(value, (text) => requireStorableText(field, text));
  return value;
}

/**
 * Refuses an input whose values nest deeper than MAX_JSON_DEPTH, naming the input field that holds
 * it. It walks with a stack of its own: fingerprinting, validating and storing all recurse, and
 * would otherwise meet a 10,000-deep value with a RangeError.
 */
export function requireBoundedDepth(input: Record<string, unknown>): void {
  for (const [field, value] of Object.entries(input)) {
    const stack: [unknown, number][] = [[value, 1]];
    while (stack.length > 0) {
      const [current, depth] = stack.pop()!;
      if (current === null || typeof current !== "object" || current instanceof Date) continue;
      if (depth > MAX_JSON_DEPTH) {
        throw new InvalidInputError(field, `${field} nests deeper than ${MAX_JSON_DEPTH} levels`);
      }
      for (const child of Object.values(current)) stack.push([child, depth + 1]);
    }
  }
}

/**
 * PostgreSQL text holds neither NUL nor half of a surrogate pair: jsonb refuses them, and text
 * would store a replacement character instead of what was sent. Both are refused here instead.
 */
function requireStorableText(field: string, value: string): string {
  if (value.includes("\u0000")) throw new InvalidInputError(field, `${field} must not contain NUL characters`);
  if (!value.isWellFormed()) throw new InvalidInputError(field, `${field} must be well-formed Unicode (it has a lone surrogate)`);
  return value;
}

function forEachString(value: unknown, visit: (text: string) => void): void {
  if (typeof value === "string") visit(value);
  else if (Array.isArray(value)) for (const item of value) forEachString(item, visit);
  else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      visit(key);
      forEachString(item, visit);
    }
  }
}
