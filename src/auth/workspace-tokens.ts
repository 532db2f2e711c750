import type { PrismaClient, Workspace } from "../generated/prisma/client.ts";
import { hashSecret, newSecret } from "./tokens.ts";

export const WORKSPACE_TOKEN_PREFIX = "oq_ws";

/**
 * A token names its workspace (`oq_ws_<workspace id, 32 hex>_<32 random characters>`), so it is
 * found by the primary key `(workspace_id, token_hash)`: a lookup that stays on one shard when the
 * tables are distributed by workspace. Tokens of onceql before 2026-12-06 (`oq_ws_<32 random>`)
 * are found through `workspaces.token_hash` instead.
 */
const CURRENT = /^oq_ws_([0-9a-f]{32})_[A-Za-z0-9_-]{32}$/;
const LEGACY = /^oq_ws_[A-Za-z0-9_-]{32}$/;

export interface TokenMatch {
  workspace: Workspace;
  /** Unset: the token works until it is rotated out or revoked. */
  expiresAt: Date | null;
}

/** Whether a string could be a workspace token at all: one that cannot is refused without a query. */
export function isWellFormedToken(token: string): boolean {
  return CURRENT.test(token) || LEGACY.test(token);
}

/** Issues a new token of the workspace, kept only as its hash; the only time it exists in clear. */
export async function issueToken(prisma: Pick<PrismaClient, "workspaceToken">, workspaceId: string): Promise<string> {
  const token = newSecret(`${WORKSPACE_TOKEN_PREFIX}_${workspaceId.replaceAll("-", "")}`);
  await prisma.workspaceToken.create({ data: { workspaceId, tokenHash: hashSecret(token) } });
  return token;
}

/** The workspace a token opens now, or null: unknown, expired and revoked tokens alike. */
export async function findWorkspaceByToken(prisma: PrismaClient, token: string, now = new Date()): Promise<TokenMatch | null> {
  const tokenHash = hashSecret(token);
  const workspaceId = workspaceIdOf(token) ?? (await legacyHolder(prisma, token, tokenHash));
  if (!workspaceId) return null;
  const row = await prisma.workspaceToken.findUnique({
    where: { workspaceId_tokenHash: { workspaceId, tokenHash } },
    include: { workspace: true },
  });
  if (!row || row.revokedAt || (row.expiresAt && row.expiresAt <= now)) return null;
  return { workspace: row.workspace, expiresAt: row.expiresAt };
}

/**
 * Rotation: a new token, and every token still working ends after `graceMs` (one already ending
 * sooner keeps its end), so clients can move to the new one without an outage.
 */
export async function rotateTokens(
  prisma: PrismaClient,
  workspaceId: string,
  graceMs: number,
  now = new Date(),
): Promise<{ token: string; oldTokensEndAt: Date; oldTokens: number }> {
  const oldTokensEndAt = new Date(now.getTime() + graceMs);
  return prisma.$transaction(async (tx) => {
    const ending = await tx.workspaceToken.updateMany({
      where: { workspaceId, revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: oldTokensEndAt } }] },
      data: { expiresAt: oldTokensEndAt },
    });
    const token = await issueToken(tx, workspaceId);
    return { token, oldTokensEndAt, oldTokens: ending.count };
  });
}

/** Revocation: every token of the workspace stops now, those in their grace included. */
export async function revokeTokens(prisma: PrismaClient, workspaceId: string, now = new Date()): Promise<number> {
  const revoked = await prisma.workspaceToken.updateMany({ where: { workspaceId, revokedAt: null }, data: { revokedAt: now } });
  return revoked.count;
}

function workspaceIdOf(token: string): string | undefined {
  const hex = CURRENT.exec(token)?.[1];
  return hex && `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

async function legacyHolder(prisma: PrismaClient, token: string, tokenHash: string): Promise<string | undefined> {
  if (!LEGACY.test(token)) return undefined;
  const workspace = await prisma.workspace.findUnique({ where: { legacyTokenHash: tokenHash }, select: { id: true } });
  return workspace?.id;
}
