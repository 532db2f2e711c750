import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { findWorkspaceByToken } from "./auth/workspace-tokens.ts";
import { createWorkspace } from "./auth/workspaces.ts";
import type { PrismaClient } from "./generated/prisma/client.ts";

/** The outcome encryption key kept in the data folder when ONCEQL_ENCRYPTION_KEY is not set. */
export function loadOrCreateEncryptionKey(dataDir: string): Buffer {
  const file = path.join(dataDir, "encryption.key");
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
  }
  const key = Buffer.from(readFileSync(file, "utf8").trim(), "hex");
  if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte hex key; remove it to make a new one`);
  return key;
}

/**
 * The embedded database's `dev` workspace, created on first start. Its token is kept in the data
 * folder (beside the database it opens) so GraphiQL can be filled in on every start.
 */
export async function ensureDevWorkspace(prisma: PrismaClient, dataDir: string): Promise<{ token: string; created: boolean }> {
  const file = path.join(dataDir, "dev-token");
  if (existsSync(file)) {
    const token = readFileSync(file, "utf8").trim();
    if (await findWorkspaceByToken(prisma, token)) return { token, created: false };
  }
  const { token } = await createWorkspace(prisma, "dev");
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return { token, created: true };
}
