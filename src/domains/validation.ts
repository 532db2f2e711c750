import { InvalidInputError } from "./user-error.ts";

export const MAX_JSON_BYTES = 16 * 1024;

/** A string field that must hold between `min` and `max` characters. */
export function requireLength(field: string, value: string, min: number, max: number): string {
  if (value.length < min || value.length > max) {
    throw new InvalidInputError(field, `${field} must be ${min}–${max} characters long, got ${value.length}`);
  }
  return value;
}

/** A free-form JSON field, bounded so one request cannot store megabytes. */
export function requireJsonSize(field: string, value: unknown): unknown {
  const size = Buffer.byteLength(JSON.stringify(value) ?? "");
  if (size > MAX_JSON_BYTES) {
    throw new InvalidInputError(field, `${field} must be at most ${MAX_JSON_BYTES} bytes of JSON, got ${size}`);
  }
  return value;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `id` can name a row at all (ids are UUIDs); anything else names nothing. */
export function isUuid(id: string): boolean {
  return UUID.test(id);
}
