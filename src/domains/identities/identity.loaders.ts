import DataLoader from "dataloader";
import type { Identity, PrismaClient } from "../../generated/prisma/client.ts";

/** Identities of one workspace by id, batched per request: one query however many keys ask. */
export function createIdentityLoader(prisma: PrismaClient, workspaceId: string) {
  return new DataLoader<string, Identity | null>(async (ids) => {
    const rows = await prisma.identity.findMany({ where: { workspaceId, id: { in: [...ids] } } });
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}
