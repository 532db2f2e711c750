import { createHash, randomBytes } from "node:crypto";

/**
 * Workspace tokens and API-key secrets are 192 random bits, so a fast SHA-256 is a safe way to
 * store them: there is nothing to guess that a slow hash would protect.
 */
export function newSecret(prefix: string): string {
  return `${prefix}_${randomBytes(24).toString("base64url")}`;
}

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}
