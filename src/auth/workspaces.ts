import type { PrismaClient, Workspace } from "../generated/prisma/client.ts";
import { hashSecret, newSecret } from "./tokens.ts";

export const WORKSPACE_TOKEN_PREFIX = "oq_ws";

/** Creates a workspace and returns its token: the only time the token exists in clear. */
export async function createWorkspace(prisma: PrismaClient, name: string): Promise<{ workspace: Workspace; token: string }> {
  const token = newSecret(WORKSPACE_TOKEN_PREFIX);
  const workspace = await prisma.workspace.create({ data: { name, tokenHash: hashSecret(token) } });
  return { workspace, token };
}

export async function findWorkspaceByToken(prisma: PrismaClient, token: string): Promise<Workspace | null> {
  return prisma.workspace.findUnique({ where: { tokenHash: hashSecret(token) } });
}
