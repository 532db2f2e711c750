import { builder } from "../../schema/builder.ts";
import { isUuid } from "../validation.ts";
import { verifyKey } from "./key.service.ts";
import { ApiKey, KeyVerification } from "./key.type.ts";

builder.queryField("verifyKey", (t) =>
  t.field({
    type: KeyVerification,
    args: { secret: t.arg.string({ required: true }) },
    resolve: (_root, { secret }, ctx) => verifyKey(ctx.services.db.prisma, ctx.workspace.id, secret),
  }),
);

builder.queryField("key", (t) =>
  t.field({
    type: ApiKey,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) =>
      isUuid(id) ? ctx.services.db.prisma.apiKey.findUnique({ where: { workspaceId_id: { workspaceId: ctx.workspace.id, id } } }) : null,
  }),
);
