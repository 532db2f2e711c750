import { builder } from "../../schema/builder.ts";
import { rowIdArg } from "../../schema/row-ids.ts";

builder.queryField("card", (t) =>
  t.prismaField({
    type: "Card",
    nullable: true,
    args: { id: rowIdArg(t.arg) },
    resolve: (query, _root, { id }, ctx) =>
      ctx.services.db.prisma.card.findUnique({ ...query, where: { workspaceId_id: { workspaceId: ctx.workspace.id, id } } }),
  }),
);
