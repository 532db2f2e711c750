import type { PrismaClient, Workspace } from "../generated/prisma/client.ts";
import { InvalidInputError } from "../schema/errors.ts";
import { requireLength } from "../schema/validation.ts";
import { issueToken } from "./workspace-tokens.ts";

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
  return prisma.$transaction(async (tx) => {
    const workspace = await tx.workspace.create({ data: { name } });
    return { workspace, token: await issueToken(tx, workspace.id) };
  });
}

/** Raised when the operator names no workspace, or a name that several workspaces share. */
export class WorkspaceNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WorkspaceNotFoundError";
  }
}

/** The one workspace an operator means by a name or an id (names need not be unique: an id settles it). */
export async function findWorkspaceByNameOrId(prisma: PrismaClient, nameOrId: string): Promise<Workspace> {
  const isId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(nameOrId);
  const found = await prisma.workspace.findMany({
    where: isId ? { OR: [{ id: nameOrId }, { name: nameOrId }] } : { name: nameOrId },
    take: 10,
  });
  if (found.length === 1) return found[0]!;
  if (found.length === 0) throw new WorkspaceNotFoundError(`no workspace is named ${JSON.stringify(nameOrId)}`);
  throw new WorkspaceNotFoundError(
    `${found.length} workspaces are named ${JSON.stringify(nameOrId)}: name one by its id (${found.map((workspace) => workspace.id).join(", ")})`,
  );
}
