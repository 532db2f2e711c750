import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

/** Sealed by a key named in the text: `v2:<key id>:<iv>:<tag>:<ciphertext>`. */
const VERSION = "v2";
/** Sealed before keys had ids (`v1:<iv>:<tag>:<ciphertext>`): opened by whichever key authenticates it. */
const UNNAMED = "v1";

/** A key's id: the first 8 hex digits of its SHA-256, which names it without telling anything of it. */
export function keyIdOf(key: Buffer): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 8);
}

/**
 * AES-256-GCM for stored outcomes that hold secrets. The record's scope and key are bound in as
 * additional data, so a ciphertext copied onto another record does not decrypt. Keys rotate: the
 * first seals, and every one opens what it sealed (its id is in the sealed text), so an older key
 * stays listed until the records it sealed have expired (at most the TTL).
 */
export class OutcomeCipher {
  private readonly keys: { id: string; key: Buffer }[];

  constructor(keys: Buffer | readonly Buffer[]) {
    const list = Buffer.isBuffer(keys) ? [keys] : [...keys];
    if (list.length === 0) throw new Error("at least one outcome encryption key is needed");
    for (const key of list) if (key.length !== 32) throw new Error("an outcome encryption key must be 32 bytes");
    this.keys = list.map((key) => ({ id: keyIdOf(key), key }));
    const ids = this.keys.map((entry) => entry.id);
    if (new Set(ids).size !== ids.length) throw new Error("the same outcome encryption key is listed twice");
  }

  encrypt(plaintext: string, boundTo: string): string {
    const { id, key } = this.keys[0]!;
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", key, iv);
    cipher.setAAD(Buffer.from(boundTo));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return [VERSION, id, iv.toString("base64"), cipher.getAuthTag().toString("base64"), body.toString("base64")].join(":");
  }

  decrypt(sealed: string, boundTo: string): string {
    const parts = sealed.split(":");
    if (parts[0] === VERSION && parts.length === 5) {
      const [, id, iv, tag, body] = parts as [string, string, string, string, string];
      const entry = this.keys.find((candidate) => candidate.id === id);
      if (!entry) throw new Error(`this outcome was sealed with key ${id}, which is not among the configured keys`);
      return open(entry.key, iv, tag, body, boundTo);
    }
    if (parts[0] === UNNAMED && parts.length === 4) {
      const [, iv, tag, body] = parts as [string, string, string, string];
      for (const { key } of this.keys) {
        try {
          return open(key, iv, tag, body, boundTo);
        } catch {
          // Not this key's: GCM's tag does not authenticate.
        }
      }
      throw new Error("this outcome was sealed with a key that is not among the configured keys");
    }
    throw new Error("unknown outcome encryption format");
  }
}

function open(key: Buffer, iv: string, tag: string, body: string, boundTo: string): string {
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64"));
  decipher.setAAD(Buffer.from(boundTo));
  decipher.setAuthTag(Buffer.from(tag, "base64"));
  return Buffer.concat([decipher.update(Buffer.from(body, "base64")), decipher.final()]).toString("utf8");
}
