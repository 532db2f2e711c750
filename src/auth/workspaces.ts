import type { PrismaClient, Workspace } from "../generated/prisma/client.ts";
import { InvalidInputError } from "../schema/errors.ts";
import { requireLength } from "../schema/validation.ts";
import { hashSecret, newSecret } from "./tokens.ts";

export const WORKSPACE_TOKEN_PREFIX = "oq_ws";
export const MAX_WORKSPACE_NAME = 200;

/** What a workspace may be called: 1–200 characters of storable text, not all of them whitespace. */
export function requireWorkspaceName(name: string): string {
  const field = "a workspace name";
  requireLength(field, name, 1, MAX_WORKSPACE_NAME);
  if (name.trim() === "") throw new InvalidInputError(field, `${field} must not be only whitespace`);
  return name;
}

/** Creates a workspace and returns its token: the only time the token exists in clear. */
export async function createWorkspace(prisma: PrismaClient, name: string): Promise<{ workspace: Workspace; token: string }> {
  requireWorkspaceName(name);
  const token = newSecret(WORKSPACE_TOKEN_PREFIX);
  const workspace = await prisma.workspace.create({ data: { name, tokenHash: hashSecret(token) } });
  return { workspace, token };
}

export async function findWorkspaceByToken(prisma: PrismaClient, token: string): Promise<Workspace | null> {
  return prisma.workspace.findUnique({ where: { tokenHash: hashSecret(token) } });
}
