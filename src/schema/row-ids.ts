import type { ArgBuilder } from "@pothos/core";
import {
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  getNamedType,
  isInputObjectType,
  isNonNullType,
  isObjectType,
} from "graphql";
import type { Types } from "./builder.ts";
import type { UserError } from "./errors.ts";

/**
 * Every row's id is a UUID, so anything else names no row. Left to the database, a malformed id
 * fails the query (a masked internal error); declared with `rowIdArg` or `rowIdField`, it is
 * answered exactly as an unknown id is: `null` from a query, the field's NotFoundError from a
 * mutation. `guardRowIds` refuses to build a schema with an ID argument declared any other way.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isRowId(id: string): boolean {
  return UUID.test(id);
}

/** What a mutation answers when this id names no row: the error class, built from the id. */
export type NotFoundErrorClass = (new (id: string) => UserError) & { readonly code: string };

interface RowIdExtension {
  notFound?: NotFoundErrorClass;
}

/** A query argument that names a row; a malformed id answers `null`. */
export function rowIdArg(arg: ArgBuilder<Types>, options: { description?: string } = {}) {
  return arg.id({ required: true, ...options, extensions: { rowId: {} satisfies RowIdExtension } });
}

/** A mutation input field that names a row; a malformed id answers `notFound`, as an unknown one does. */
export function rowIdField(t: PothosSchemaTypes.InputFieldBuilder<Types, "InputObject">, notFound: NotFoundErrorClass) {
  return t.id({ required: true, extensions: { rowId: { notFound } satisfies RowIdExtension } });
}

/**
 * The NotFoundError a mutation answers for the first malformed row id of its input, if any; the
 * wrapper throws it inside the mutation, so it is stored and replayed like the service's own.
 */
export function malformedRowIdError(info: GraphQLResolveInfo, input: Record<string, unknown>): UserError | undefined {
  for (const [name, notFound] of mutationRowIds(info.parentType.getFields()[info.fieldName]!)) {
    const id = input[name];
    if (typeof id === "string" && !isRowId(id)) return new notFound(id);
  }
  return undefined;
}

const rowIdsByMutation = new WeakMap<GraphQLField<unknown, unknown>, [string, NotFoundErrorClass][]>();

function mutationRowIds(field: GraphQLField<unknown, unknown>): [string, NotFoundErrorClass][] {
  let rowIds = rowIdsByMutation.get(field);
  if (!rowIds) {
    const input = field.args.find((arg) => arg.name === "input");
    const inputType = input && getNamedType(input.type);
    rowIds = isInputObjectType(inputType)
      ? Object.values(inputType.getFields()).flatMap((inputField) => {
          const notFound = rowIdOf(inputField)?.notFound;
          return notFound ? [[inputField.name, notFound] as [string, NotFoundErrorClass]] : [];
        })
      : [];
    rowIdsByMutation.set(field, rowIds);
  }
  return rowIds;
}

/**
 * Checks every ID argument of the schema was declared as a row id, and makes every field with a
 * row-id argument answer `null` for a malformed id without running its resolver. Throws at start,
 * naming the argument, for an ID declared any other way.
 */
export function guardRowIds(schema: GraphQLSchema): GraphQLSchema {
  const mutationType = schema.getMutationType();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith("__")) continue;
    for (const field of Object.values(type.getFields())) {
      const where = `${type.name}.${field.name}`;
      if (type === mutationType) {
        checkMutationInput(where, field);
        continue;
      }
      const rowIdArgs = field.args.filter((arg) => isId(arg) && requireRowId(`${where}(${arg.name})`, arg));
      if (rowIdArgs.length === 0) continue;
      if (isNonNullType(field.type)) throw new Error(`${where} takes a row id, so it must be nullable (a malformed id answers null)`);
      const resolve = field.resolve!;
      field.resolve = (source, args, context, info) =>
        rowIdArgs.some((arg) => typeof args[arg.name] === "string" && !isRowId(args[arg.name]))
          ? null
          : resolve(source, args, context, info);
    }
  }
  return schema;
}

function checkMutationInput(where: string, field: GraphQLField<unknown, unknown>): void {
  const seen = new Set<string>();
  const visit = (path: string, inputType: unknown, top: boolean) => {
    if (!isInputObjectType(inputType) || seen.has(inputType.name)) return;
    seen.add(inputType.name);
    for (const inputField of Object.values(inputType.getFields())) {
      const fieldPath = `${path}.${inputField.name}`;
      if (isId(inputField)) {
        if (!top) throw new Error(`${fieldPath}: row ids are supported at the top of a mutation's input only`);
        if (!requireRowId(fieldPath, inputField).notFound) throw new Error(`${fieldPath}: declare it with rowIdField(t, ItsNotFoundError)`);
      }
      visit(fieldPath, getNamedType(inputField.type), false);
    }
  };
  for (const arg of field.args) {
    if (isId(arg)) throw new Error(`${where}(${arg.name}): a mutation's ids go in its input, declared with rowIdField`);
    visit(`${where}(${arg.name})`, getNamedType(arg.type), true);
  }
}

function isId(field: GraphQLInputField | GraphQLField<unknown, unknown>["args"][number]): boolean {
  return getNamedType(field.type).name === "ID";
}

function rowIdOf(field: GraphQLInputField | GraphQLField<unknown, unknown>["args"][number]): RowIdExtension | undefined {
  return (field.extensions as { rowId?: RowIdExtension }).rowId;
}

function requireRowId(where: string, field: GraphQLInputField | GraphQLField<unknown, unknown>["args"][number]): RowIdExtension {
  const rowId = rowIdOf(field);
  if (!rowId)
    throw new Error(`${where} is an ID that names a row: declare it with rowIdArg / rowIdField, which answer a malformed id as unknown`);
  return rowId;
}
