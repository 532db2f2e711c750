import type { ArgBuilder, SchemaTypes } from "@pothos/core";
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
import type { UserError } from "./errors.ts";

/**
 * Every row's id is a UUID, so anything else names no row. Left to the database, a malformed id
 * fails the query (a masked internal error); declared with `rowIdArg` or `rowIdField`, it is
 * answered exactly as an unknown id is: `null` from a query, the field's NotFoundError from a
 * mutation. `guardRowIds` refuses to build a schema with an ID argument declared any other way.
 *
 * One UUID has several spellings (upper case, as Swift's `UUID().uuidString` makes; without
 * hyphens; in braces), and a uuid column takes them all as one. Text does not: an id used as sent
 * made a second user at the card issuer and a second ledger account for one balance. So every row
 * id is canonicalized (lower case, hyphenated) before anything sees it: the fingerprint, the
 * services, the issuer, ledger addresses, stored outcomes.
 */
const HYPHENATED = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BARE = /^[0-9a-f]{32}$/;

/** The canonical spelling of a UUID (lower case, hyphenated), or undefined for what is not one. */
export function canonicalRowId(id: string): string | undefined {
  if (id.length > 38) return undefined;
  const inner = (id.startsWith("{") && id.endsWith("}") ? id.slice(1, -1) : id).toLowerCase();
  if (HYPHENATED.test(inner)) return inner;
  if (BARE.test(inner))
    return `${inner.slice(0, 8)}-${inner.slice(8, 12)}-${inner.slice(12, 16)}-${inner.slice(16, 20)}-${inner.slice(20)}`;
  return undefined;
}

export function isRowId(id: string): boolean {
  return canonicalRowId(id) !== undefined;
}

/** What a mutation answers when this id names no row: the error class, built from the id. */
export type NotFoundErrorClass = (new (id: string) => UserError) & { readonly code: string };

interface RowIdExtension {
  notFound?: NotFoundErrorClass;
}

/** A query argument that names a row; a malformed id answers `null`. */
export function rowIdArg<Types extends SchemaTypes>(arg: ArgBuilder<Types>, options: { description?: string } = {}) {
  return arg.id({ required: true, ...options, extensions: { rowId: {} satisfies RowIdExtension } });
}

/** A mutation input field that names a row; a malformed id answers `notFound`, as an unknown one does. */
export function rowIdField<Types extends SchemaTypes>(
  t: PothosSchemaTypes.InputFieldBuilder<Types, "InputObject">,
  notFound: NotFoundErrorClass,
) {
  return t.id({ required: true, extensions: { rowId: { notFound } satisfies RowIdExtension } });
}

/**
 * A mutation's input with its row ids in their canonical spelling, so that two spellings of one
 * id are one input (one fingerprint) and nothing downstream sees another. Malformed ids are left
 * as sent, for `malformedRowIdError`.
 */
export function canonicalRowIds<Input extends Record<string, unknown>>(info: GraphQLResolveInfo, input: Input): Input {
  let canonical: Input | undefined;
  for (const [name] of mutationRowIds(info.parentType.getFields()[info.fieldName]!)) {
    const id = input[name];
    const spelled = typeof id === "string" ? canonicalRowId(id) : undefined;
    if (spelled !== undefined && spelled !== id) {
      canonical ??= { ...input };
      (canonical as Record<string, unknown>)[name] = spelled;
    }
  }
  return canonical ?? input;
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
 * row-id argument answer `null` for a malformed id without running its resolver, and see every
 * other in its canonical spelling. Throws at start, naming the argument, for an ID declared any
 * other way.
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
      field.resolve = (source, args, context, info) => {
        const canonical = { ...args };
        for (const arg of rowIdArgs) {
          if (typeof args[arg.name] !== "string") continue;
          const id = canonicalRowId(args[arg.name]);
          if (id === undefined) return null;
          canonical[arg.name] = id;
        }
        return resolve(source, canonical, context, info);
      };
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
