import SchemaBuilder from "@pothos/core";
import ErrorsPlugin from "@pothos/plugin-errors";
import PrismaPlugin from "@pothos/plugin-prisma";
import RelayPlugin from "@pothos/plugin-relay";
import type { Context } from "../context.ts";
import type PrismaTypes from "../generated/pothos-types.ts";
import { getDatamodel } from "../generated/pothos-types.ts";
import { InvalidInputError } from "./errors.ts";

export interface SchemaConfig {
  Context: Context;
  PrismaTypes: PrismaTypes;
  DefaultFieldNullability: false;
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
  // The errors plugin goes before the prisma plugin, as Pothos' own examples do.
  plugins: [ErrorsPlugin, PrismaPlugin, RelayPlugin],
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
});

builder.queryType({});
builder.mutationType({});
