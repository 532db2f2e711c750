import IdempotencyPlugin from "@onceql/pothos-plugin-idempotency";
import SchemaBuilder from "@pothos/core";
import ErrorsPlugin from "@pothos/plugin-errors";
import PrismaPlugin from "@pothos/plugin-prisma";
import RelayPlugin from "@pothos/plugin-relay";
import TracingPlugin, { isRootField } from "@pothos/plugin-tracing";
import type { Context } from "../context.ts";
import type { TransactionClient } from "../db/transaction.ts";
import type PrismaTypes from "../generated/pothos-types.ts";
import { getDatamodel } from "../generated/pothos-types.ts";
import { tracingHooks } from "../tracing/hooks.ts";
import { InvalidInputError } from "./errors.ts";
import { requireExactNumbers } from "./exact-numbers.ts";
import { canonicalRowIds } from "./row-ids.ts";
import { requireBoundedDepth } from "./validation.ts";

export interface SchemaConfig {
  Context: Context;
  PrismaTypes: PrismaTypes;
  DefaultFieldNullability: false;
  Idempotency: { Tx: TransactionClient };
  Scalars: {
    ID: { Input: string; Output: string };
    BigInt: { Input: bigint; Output: bigint };
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
  };
}

/** The schema's types, for helpers that build on the builder. */
export type Types = PothosSchemaTypes.ExtendDefaultTypes<SchemaConfig>;

export const builder = new SchemaBuilder<SchemaConfig>({
  // The errors plugin goes before the prisma plugin, as Pothos' own examples do. Tracing wraps
  // outermost, so a root field's span holds all of it.
  plugins: [TracingPlugin, ErrorsPlugin, PrismaPlugin, RelayPlugin, IdempotencyPlugin],
  defaultFieldNullability: false,
  prisma: {
    // The database is chosen at start (PGlite or PostgreSQL), so the client comes from the context.
    client: (ctx) => ctx.services.db.prisma,
    dmmf: getDatamodel(),
    exposeDescriptions: false,
  },
  // Relay connections for lists (cursor pagination); rows keep their own UUIDs as ids, so no
  // global ids and no `node` / `nodes` roots.
  relay: {
    clientMutationId: "omit",
    cursorType: "String",
    nodeQueryOptions: false,
    nodesQueryOptions: false,
  },
  errors: {
    defaultTypes: [InvalidInputError],
    directResult: true,
  },
  // A span per root field when traces are exported (src/tracing/sdk.ts); otherwise no field is
  // wrapped, and each resolver is the one it would be without the plugin.
  tracing: {
    default: (config) => tracingHooks() !== undefined && isRootField(config),
    wrap: (resolver) => tracingHooks()!.wrapField(resolver as never) as never,
  },
  // Exactly-once mutations (`defineIdempotentMutation`): keys are a workspace's own; ids are
  // fingerprinted in their canonical spelling; numbers read as other numbers, and deep
  // JSON, are refused before anything looks into them.
  idempotency: {
    runner: (ctx) => ctx.services.idempotency,
    scope: (ctx) => ctx.workspace.id,
    prepareInput: (input, ctx, info) => {
      requireExactNumbers(info, ctx.inexactNumbers);
      requireBoundedDepth(input);
      return canonicalRowIds(info, input);
    },
    onMutation: (event, ctx) => {
      // The field's span is the active one here: the outcome lands on it, the key only as a hash.
      tracingHooks()?.onMutation(event);
      ctx.services.logger.info(
        {
          workspace: event.scope,
          mutation: event.mutation,
          clientMutationId: event.clientMutationId,
          status: event.status,
          durationMs: event.durationMs,
          requestId: ctx.requestId,
        },
        "mutation",
      );
    },
  },
});

builder.queryType({});
builder.mutationType({});
