import { builder } from "../../schema/builder.ts";
import { releaseExpiredStock } from "./expiry.service.ts";
import { isSku } from "./product.service.ts";

builder.queryField("product", (t) =>
  t.prismaField({
    type: "Product",
    nullable: true,
    args: { sku: t.arg.string({ required: true }) },
    resolve: async (query, _root, { sku }, ctx) => {
      if (!isSku(sku)) return null;
      const { prisma } = ctx.services.db;
      // What is past its time goes back to stock before anyone reads it.
      await releaseExpiredStock(prisma, ctx.workspace.id, { sku });
      return prisma.product.findUnique({ ...query, where: { workspaceId_sku: { workspaceId: ctx.workspace.id, sku } } });
    },
  }),
);
