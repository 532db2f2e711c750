import { builder } from "../../schema/builder.ts";

const Workspace = builder.prismaObject("Workspace", {
  description: "The workspace your token belongs to; every key, identity and record is scoped to it.",
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name"),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

builder.queryField("workspace", (t) =>
  t.field({ type: Workspace, description: "The caller's workspace.", resolve: (_root, _args, ctx) => ctx.workspace }),
);
