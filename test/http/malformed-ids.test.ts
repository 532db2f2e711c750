import { randomUUID } from "node:crypto";
import {
  type GraphQLField,
  type GraphQLInputType,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
} from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { schema } from "../../src/schema/index.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

/**
 * Every ID argument of the schema, found by walking it (so a new one is covered the day it is
 * added), sent ids that are not UUIDs: a query answers null, a mutation its NotFoundError, and
 * nothing reaches the database as a malformed uuid (which would be a masked internal error).
 */
const MALFORMED = ["not-a-uuid", "", "42", "00000000-0000-0000-0000-00000000000g", "' OR 1=1 --", "x".repeat(5_000)];

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

type Field = GraphQLField<unknown, unknown>;
const isId = (type: GraphQLInputType) => getNamedType(type).name === "ID";

/** A valid value of an input type: its required fields only, ids as fresh UUIDs. */
function sample(type: GraphQLInputType): unknown {
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

const selection = (field: Field) => (isLeafType(getNamedType(field.type)) ? "" : "{ __typename }");
const variablesOf = (field: Field) => field.args.map((arg) => `$${arg.name}: ${arg.type}`).join(", ");
const argumentsOf = (field: Field) => field.args.map((arg) => `${arg.name}: $${arg.name}`).join(", ");

const queries = Object.values(schema.getQueryType()!.getFields()).flatMap((field) =>
  field.args.filter((arg) => isId(arg.type)).map((arg) => ({ name: `${field.name}(${arg.name})`, field, arg: arg.name })),
);
const mutations = Object.values(schema.getMutationType()!.getFields()).flatMap((field) => {
  const input = getNamedType(field.args.find((arg) => arg.name === "input")!.type);
  if (!isInputObjectType(input)) return [];
  return Object.values(input.getFields())
    .filter((inputField) => isId(inputField.type))
    .map((inputField) => ({
      name: `${field.name}(input.${inputField.name})`,
      field,
      inputField: inputField.name,
      notFound: (inputField.extensions as { rowId: { notFound: { name: string } } }).rowId.notFound.name,
    }));
});

describe("a malformed id, sent to every ID argument of the schema", () => {
  it("finds the ID arguments (the walk itself works)", () => {
    expect(queries.map((query) => query.name)).toEqual(expect.arrayContaining(["identity(id)", "key(id)"]));
    expect(mutations.map((mutation) => mutation.name)).toEqual(expect.arrayContaining(["updateKey(input.keyId)"]));
  });

  it.each(queries)("query $name: null, no error", async ({ field, arg }) => {
    for (const id of MALFORMED) {
      const variables = Object.fromEntries(field.args.map((a) => [a.name, a.name === arg ? id : sample(a.type)]));
      const response = await t.gql(`query (${variablesOf(field)}) { ${field.name}(${argumentsOf(field)}) ${selection(field)} }`, variables);
      expect(response.body.errors).toBeUndefined();
      expect(response.body.data[field.name]).toBeNull();
    }
  });

  it.each(mutations)("mutation $name: its $notFound, stored like any outcome", async ({ field, inputField, notFound }) => {
    const records = await t.db.prisma.idempotencyRecord.count();
    for (const [i, id] of MALFORMED.entries()) {
      const input = {
        ...(sample(field.args[0]!.type) as object),
        [inputField]: id,
        clientMutationId: `malformed-${field.name}-${inputField}-${i}`,
      };
      const response = await t.gql(
        `mutation ($input: ${field.args[0]!.type}) { ${field.name}(input: $input) { __typename ... on UserError { code } } }`,
        { input },
      );
      expect(response.body.errors).toBeUndefined();
      expect(response.body.data[field.name].__typename).toBe(notFound);
      expect(response.body.extensions.idempotency[0].status).toBe("EXECUTED");
    }
    expect(await t.db.prisma.idempotencyRecord.count()).toBe(records + MALFORMED.length);
  });
});
