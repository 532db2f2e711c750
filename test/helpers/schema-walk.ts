import { randomUUID } from "node:crypto";
import {
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLOutputType,
  getNamedType,
  isAbstractType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
} from "graphql";
import { schema } from "../../src/schema/index.ts";

/** Tests that walk the schema, so that a field added tomorrow is covered the day it is added. */

export type Field = GraphQLField<unknown, unknown>;

export const isId = (type: GraphQLInputType) => getNamedType(type).name === "ID";

/** A valid value of an input type: its required fields only, ids as fresh UUIDs. */
export function sample(type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return sample(type.ofType);
  if (isListType(type)) return [sample(type.ofType)];
  if (isInputObjectType(type)) {
    return Object.fromEntries(
      Object.values(type.getFields())
        .filter((field) => isNonNullType(field.type) && field.defaultValue === undefined)
        .map((field) => [field.name, sample(field.type)]),
    );
  }
  if (isEnumType(type)) return type.getValues()[0]!.value;
  const samples: Record<string, unknown> = {
    ID: randomUUID(),
    String: "sample",
    Int: 1,
    Boolean: false,
    BigInt: "1",
    DateTime: new Date(Date.now() + 3_600_000).toISOString(),
    JSON: {},
  };
  if (!(type.name in samples)) throw new Error(`no sample for the scalar ${type.name}: add one`);
  return samples[type.name];
}

/**
 * A selection of every field of a type that needs no argument, `depth` objects deep, with every
 * member of a union or interface: what a client that asks for everything sees.
 */
export function selectAll(type: GraphQLOutputType, depth = 2): string {
  const named = getNamedType(type);
  if (isLeafType(named)) return "";
  if (isAbstractType(named)) {
    const members = schema.getPossibleTypes(named).map((member) => `... on ${member.name} ${selectAll(member, depth)}`);
    return `{ __typename ${members.join(" ")} }`;
  }
  if (!isObjectType(named)) return "";
  const fields = Object.values(named.getFields()).filter((field) => field.args.every((arg) => !isNonNullType(arg.type)));
  const selected = fields.flatMap((field) => {
    if (isLeafType(getNamedType(field.type))) return [field.name];
    return depth > 0 ? [`${field.name} ${selectAll(field.type, depth - 1)}`] : [];
  });
  return `{ __typename ${selected.join(" ")} }`;
}

export const variablesOf = (field: Field) => field.args.map((arg) => `$${arg.name}: ${arg.type}`).join(", ");
export const argumentsOf = (field: Field) => field.args.map((arg) => `${arg.name}: $${arg.name}`).join(", ");

/** Every query field with an ID argument, one entry per argument. */
export const idQueries = Object.values(schema.getQueryType()!.getFields()).flatMap((field) =>
  field.args.filter((arg) => isId(arg.type)).map((arg) => ({ name: `${field.name}(${arg.name})`, field, arg: arg.name })),
);

/** Every mutation, with the ID fields of its input. */
export const mutationsWithIds = Object.values(schema.getMutationType()!.getFields()).flatMap((field) => {
  const input = getNamedType(field.args.find((arg) => arg.name === "input")!.type);
  if (!isInputObjectType(input)) return [];
  const ids = Object.values(input.getFields()).filter((inputField) => isId(inputField.type));
  return ids.length ? [{ name: field.name, field, ids: ids.map((id) => id.name) }] : [];
});
