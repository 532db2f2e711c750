import { BasePlugin, type PothosTypeConfig, type SchemaTypes } from "@pothos/core";
import type { GraphQLTypeResolver } from "graphql";
import { failureBehind } from "./answers.ts";

/** Registers `builder.idempotentMutationField` and the builder option `idempotency` (see schema-builder.ts). */
export class PothosIdempotencyPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  /**
   * A failure of an idempotent field (nothing stored) that the errors plugin turned into a member
   * of the field's union, because a broad class such as `Error` is among `defaultTypes`, is thrown
   * again as the field's error: shown as data, a client would take it for the key's stored answer.
   * The errors plugin wraps every resolver (and this resolveType sees its result) whatever the
   * order of the two plugins.
   */
  override wrapResolveType(
    resolveType: GraphQLTypeResolver<unknown, Types["Context"]>,
    typeConfig: PothosTypeConfig,
  ): GraphQLTypeResolver<unknown, Types["Context"]> {
    if (typeConfig.kind !== "Union") return resolveType;
    return (parent, context, info, type) => {
      const failure = failureBehind(parent);
      if (failure !== undefined) throw failure;
      return resolveType(parent, context, info, type);
    };
  }
}
