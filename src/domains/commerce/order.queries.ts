import { builder } from "../../schema/builder.ts";
import { rowIdArg } from "../../schema/row-ids.ts";
import { releaseExpiredStock } from "./expiry.service.ts";

builder.queryField("order", (t) =>
  t.prismaField({
    type: "Order",
    nullable: true,
    args: { id: rowIdArg(t.arg) },
    resolve: async (query, _root, { id }, ctx) => {
      const { prisma } = ctx.services.db;
      // An unpaid order past its time is released (EXPIRED, its stock back) before anyone reads it.
      await releaseExpiredStock(prisma, ctx.workspace.id, { orderId: id });
      return prisma.order.findUnique({ ...query, where: { workspaceId_id: { workspaceId: ctx.workspace.id, id } } });
    },
  }),
);

builder.queryField("orders", (t) =>
  t.prismaConnection({
    type: "Order",
    cursor: "workspaceId_id",
    description: "The workspace's orders, newest first.",
    resolve: async (query, _root, _args, ctx) => {
      const { prisma } = ctx.services.db;
      await releaseExpiredStock(prisma, ctx.workspace.id, "orders");
      return prisma.order.findMany({
        ...query,
        where: { workspaceId: ctx.workspace.id },
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      });
    },
  }),
);
