import {
  defaultFieldResolver,
  type GraphQLField,
  type GraphQLOutputType,
  type GraphQLResolveInfo,
  isAbstractType,
  isLeafType,
  isListType,
  isNonNullType,
} from "graphql";

/**
 * A field the prisma plugin loads (a relation, or a field with a `select`): read live when shown,
 * never part of the stored outcome, and only loadable inside real execution.
 */
export function readsLive(field: GraphQLField<unknown, unknown>): boolean {
  const extensions = field.extensions as Record<string, unknown>;
  return extensions.pothosPrismaLoaded !== undefined || extensions.pothosPrismaRelationField !== undefined;
}

/**
 * Why `value` could not be shown as `type`: the first field, at any depth, whose value its type
 * cannot serialize (an Int past 2^31−1, a null where one is not allowed, a name no enum has), or
 * undefined when every field can be. Each field is resolved as execution would resolve it, with
 * the request's context, so whatever selection a client makes of a value that passes, it shows;
 * relations it holds are read live when shown, as a replay reads them, and are not walked.
 */
export async function whyNotShowable(
  type: GraphQLOutputType,
  value: unknown,
  context: unknown,
  info: GraphQLResolveInfo,
  at = info.fieldName,
): Promise<string | undefined> {
  if (isNonNullType(type)) {
    return value == null ? `${at} is null` : whyNotShowable(type.ofType, value, context, info, at);
  }
  if (value == null) return undefined;
  if (isListType(type)) {
    if (typeof value === "string" || !(Symbol.iterator in Object(value))) return `${at} is not a list`;
    let index = 0;
    for (const item of value as Iterable<unknown>) {
      const why = await whyNotShowable(type.ofType, await item, context, info, `${at}.${index++}`);
      if (why) return why;
    }
    return undefined;
  }
  if (isLeafType(type)) {
    try {
      return type.serialize(value) === undefined ? `${at} serializes to nothing as ${type.name}` : undefined;
    } catch (error) {
      return `${at}: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  // A member of a union or an interface is the type that claims the value, as execution picks it.
  const objectType = isAbstractType(type)
    ? info.schema.getPossibleTypes(type).find((candidate) => candidate.isTypeOf?.(value, context, info) === true)
    : type;
  if (!objectType) return `${at} is no member of ${type.name}`;
  for (const [name, field] of Object.entries(objectType.getFields())) {
    if (readsLive(field)) continue;
    let fieldValue: unknown;
    try {
      // What execution would pass for this field: resolvers that read the field's name (exposed fields do) need it.
      const fieldInfo = {
        ...info,
        fieldName: name,
        parentType: objectType,
        returnType: field.type,
        path: { prev: info.path, key: name, typename: objectType.name },
      };
      fieldValue = await (field.resolve ?? defaultFieldResolver)(value, {}, context, fieldInfo);
    } catch (error) {
      return `${at}.${name}: ${error instanceof Error ? error.message : String(error)}`;
    }
    const why = await whyNotShowable(field.type, fieldValue, context, info, `${at}.${name}`);
    if (why) return why;
  }
  return undefined;
}
