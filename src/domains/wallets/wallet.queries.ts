import { builder } from "../../schema/builder.ts";
import { rowIdArg } from "../../schema/row-ids.ts";
import { releaseExpiredHolds } from "./hold.service.ts";

builder.queryField("wallet", (t) =>
  t.prismaField({
    type: "Wallet",
    nullable: true,
    args: { id: rowIdArg(t.arg) },
    resolve: async (query, _root, { id }, ctx) => {
      const { prisma } = ctx.services.db;
      // Holds past their expiry are released before anyone reads the wallet.
      await releaseExpiredHolds(prisma, ctx.workspace.id, { walletId: id });
      return prisma.wallet.findUnique({ ...query, where: { workspaceId_id: { workspaceId: ctx.workspace.id, id } } });
    },
  }),
);

builder.queryField("hold", (t) =>
  t.prismaField({
    type: "Hold",
    nullable: true,
    args: { id: rowIdArg(t.arg) },
    resolve: async (query, _root, { id }, ctx) => {
      const { prisma } = ctx.services.db;
      await releaseExpiredHolds(prisma, ctx.workspace.id, { holdId: id });
      return prisma.hold.findUnique({ ...query, where: { workspaceId_id: { workspaceId: ctx.workspace.id, id } } });
    },
  }),
);

builder.queryField("transaction", (t) =>
  t.prismaField({
    type: "LedgerTransaction",
    nullable: true,
    args: { id: rowIdArg(t.arg) },
    resolve: (query, _root, { id }, ctx) =>
      ctx.services.db.prisma.ledgerTransaction.findUnique({ ...query, where: { workspaceId_id: { workspaceId: ctx.workspace.id, id } } }),
  }),
);
