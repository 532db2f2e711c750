import { builder } from "../../schema/builder.ts";
import { rowIdArg } from "../../schema/row-ids.ts";

builder.queryField("identity", (t) =>
  t.prismaField({
    type: "Identity",
    nullable: true,
    args: { id: rowIdArg(t.arg) },
    resolve: (query, _root, { id }, ctx) =>
      ctx.services.db.prisma.identity.findUnique({ ...query, where: { workspaceId_id: { workspaceId: ctx.workspace.id, id } } }),
  }),
);
