import { invalidClientMutationId } from "./errors.ts";

export const MAX_CLIENT_MUTATION_ID_LENGTH = 255;
const PRINTABLE_ASCII_NO_SPACE = /^[\x21-\x7e]+$/;

/** Throws IDEMPOTENCY_KEY_INVALID unless the clientMutationId is 1–255 printable ASCII characters without spaces. */
export function assertValidClientMutationId(clientMutationId: string): void {
  if (clientMutationId.length === 0) throw invalidClientMutationId("must not be empty");
  // ASCII first: then `length` (UTF-16 units) is the number of characters the message names.
  if (!PRINTABLE_ASCII_NO_SPACE.test(clientMutationId)) throw invalidClientMutationId("must be printable ASCII without spaces");
  if (clientMutationId.length > MAX_CLIENT_MUTATION_ID_LENGTH) {
    throw invalidClientMutationId(`must be at most ${MAX_CLIENT_MUTATION_ID_LENGTH} characters, got ${clientMutationId.length}`);
  }
}
