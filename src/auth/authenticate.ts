import { GraphQLError } from "graphql";
import type { PrismaClient, Workspace } from "../generated/prisma/client.ts";
import { findWorkspaceByToken } from "./workspaces.ts";

const BEARER = /^Bearer\s+(\S{1,512})\s*$/i;

/** The workspace whose token the request carries, or a 401 before anything executes. */
export async function authenticate(prisma: PrismaClient, request: Request): Promise<Workspace> {
  const header = request.headers.get("authorization");
  const token = header ? BEARER.exec(header)?.[1] : undefined;
  const workspace = token ? await findWorkspaceByToken(prisma, token) : null;
  if (!workspace) {
    throw new GraphQLError(
      header ? "The workspace token is not valid." : "Missing workspace token: send Authorization: Bearer <token>.",
      { extensions: { code: "UNAUTHENTICATED", http: { status: 401, headers: { "WWW-Authenticate": "Bearer" } } } },
    );
  }
  return workspace;
}
