import { builder } from "../../schema/builder.ts";
import { rowIdArg } from "../../schema/row-ids.ts";
import { verifyApiKey } from "./api-key.service.ts";
import { KeyVerification } from "./api-key.type.ts";

builder.queryField("verifyKey", (t) =>
  t.field({
    type: KeyVerification,
    args: { secret: t.arg.string({ required: true }) },
    resolve: (_root, { secret }, ctx) => verifyApiKey(ctx.services.db.prisma, ctx.workspace.id, secret),
  }),
);

builder.queryField("key", (t) =>
  t.prismaField({
    type: "ApiKey",
    nullable: true,
    args: { id: rowIdArg(t.arg) },
    resolve: (query, _root, { id }, ctx) =>
      ctx.services.db.prisma.apiKey.findUnique({ ...query, where: { workspaceId_id: { workspaceId: ctx.workspace.id, id } } }),
  }),
);
