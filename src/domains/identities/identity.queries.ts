import { builder } from "../../schema/builder.ts";
import { isUuid } from "../validation.ts";
import { Identity } from "./identity.type.ts";

builder.queryField("identity", (t) =>
  t.field({
    type: Identity,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => (isUuid(id) ? ctx.loaders.identity.load(id) : null),
  }),
);
