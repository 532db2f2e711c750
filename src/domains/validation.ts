import { InvalidInputError } from "./user-error.ts";

export const MAX_JSON_BYTES = 16 * 1024;

/** A string field that must hold between `min` and `max` characters of storable text. */
export function requireLength(field: string, value: string, min: number, max: number): string {
  if (value.length < min || value.length > max) {
    throw new InvalidInputError(field, `${field} must be ${min}–${max} characters long, got ${value.length}`);
  }
  return requireStorableText(field, value);
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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `id` can name a row at all (ids are UUIDs); anything else names nothing. */
export function isUuid(id: string): boolean {
  return UUID.test(id);
}
