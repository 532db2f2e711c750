import { IdempotencyStatus } from "../generated/prisma/enums.ts";
import { builder } from "../schema/builder.ts";

const Status = builder.enumType(IdempotencyStatus, { name: "IdempotencyStatus" });

export const IdempotencyRecord = builder.prismaObject("IdempotencyRecord", {
  description: "What onceql holds for one clientMutationId of your workspace.",
  fields: (t) => ({
    clientMutationId: t.exposeString("clientMutationId"),
    mutation: t.exposeString("mutation"),
    status: t.expose("status", { type: Status }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    completedAt: t.expose("completedAt", { type: "DateTime", nullable: true }),
    expiresAt: t.expose("expiresAt", { type: "DateTime" }),
    replayCount: t.int({
      // Replays are counted in memory and stored a few times a second; this server's are added here.
      resolve: (record, _args, ctx) =>
        record.replayCount +
        ctx.services.idempotency.replaysNotStored({ workspaceId: record.workspaceId, clientMutationId: record.clientMutationId }),
    }),
  }),
});

builder.queryField("idempotencyRecord", (t) =>
  t.prismaField({
    type: "IdempotencyRecord",
    nullable: true,
    description: "The record of one key of your workspace; null when the key is unknown or has expired.",
    args: { clientMutationId: t.arg.string({ required: true }) },
    resolve: (query, _root, { clientMutationId }, ctx) =>
      ctx.services.db.prisma.idempotencyRecord.findFirst({
        ...query,
        where: { workspaceId: ctx.workspace.id, clientMutationId, expiresAt: { gt: new Date() } },
      }),
  }),
);
