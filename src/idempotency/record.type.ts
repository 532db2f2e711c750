import { assertValidClientMutationId } from "@onceql/pothos-plugin-idempotency";
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
        ctx.services.idempotency.replaysNotStored({ scope: record.workspaceId, clientMutationId: record.clientMutationId }),
    }),
  }),
});

builder.queryField("idempotencyRecord", (t) =>
  t.prismaField({
    type: "IdempotencyRecord",
    nullable: true,
    description:
      "The record of one key of your workspace: IN_PROGRESS while its first attempt runs (on any server), then COMPLETED; " +
      "null when the key is unknown or has expired. A key no mutation would take is IDEMPOTENCY_KEY_INVALID, as a mutation says.",
    args: { clientMutationId: t.arg.string({ required: true }) },
    resolve: async (query, _root, { clientMutationId }, ctx) => {
      // Malformed, it could never have been used (and a NUL would not even reach PostgreSQL's text).
      assertValidClientMutationId(clientMutationId);
      const workspaceId = ctx.workspace.id;
      const record = await ctx.services.db.prisma.idempotencyRecord.findFirst({
        ...query,
        where: { workspaceId, clientMutationId, expiresAt: { gt: new Date() } },
      });
      if (record) return record;
      // A running attempt's claim commits with its outcome: until then it is a lock, not a row.
      const running = await ctx.services.idempotency.running({ scope: workspaceId, clientMutationId });
      if (!running) return null;
      return {
        workspaceId,
        clientMutationId,
        mutation: running.mutation,
        fingerprint: "",
        status: "IN_PROGRESS" as const,
        leaseToken: null,
        leaseExpiresAt: null,
        outcome: null,
        encrypted: false,
        input: null,
        replayCount: 0,
        conflictCount: 0,
        createdAt: running.startedAt,
        completedAt: null,
        expiresAt: new Date(running.startedAt.getTime() + ctx.services.config.idempotencyTtlMs),
      };
    },
  }),
);
