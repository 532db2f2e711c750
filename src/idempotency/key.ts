import { keyInvalid } from "./errors.ts";

export const MAX_KEY_LENGTH = 255;
const PRINTABLE_ASCII_NO_SPACE = /^[\x21-\x7e]+$/;

/** Throws IDEMPOTENCY_KEY_INVALID unless `key` is 1–255 printable ASCII characters without spaces. */
export function assertValidKey(key: string): void {
  if (key.length === 0) throw keyInvalid("must not be empty");
  if (key.length > MAX_KEY_LENGTH) throw keyInvalid(`must be at most ${MAX_KEY_LENGTH} characters, got ${key.length}`);
  if (!PRINTABLE_ASCII_NO_SPACE.test(key)) throw keyInvalid("must be printable ASCII without spaces");
}
