import { getNamedType, isInputObjectType, isLeafType } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { schema } from "../../src/schema/index.ts";
import { argumentsOf, type Field, isId, idQueries as queries, sample, variablesOf } from "../helpers/schema-walk.ts";
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

const selection = (field: Field) => (isLeafType(getNamedType(field.type)) ? "" : "{ __typename }");
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
