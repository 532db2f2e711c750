import { readsLive } from "@onceql/pothos-plugin-idempotency";
import {
  type GraphQLInterfaceType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  getNamedType,
  isAbstractType,
  isEnumType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
} from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BIGINT_MAX,
  BIGINT_MIN,
  DATE_MAX,
  DATE_MIN,
  EXTREME_JSON,
  EXTREME_USER_ERRORS,
  INT_MAX,
  INT_MIN,
  LONG,
} from "../helpers/every-user-error.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

/**
 * Every stored answer can be shown: each UserError type of the schema, at the extremes of each of
 * its fields, is stored as a key's outcome, shown, and replayed as it was, through the endpoint.
 * The types are read from the schema, so a new one without extreme instances fails here.
 */
// After the helper (a static import), so that the schema holds its mutations.
const { schema } = await import("../../src/schema/index.ts");

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const userErrorTypes = schema.getPossibleTypes(schema.getType("UserError") as GraphQLInterfaceType);
const instancesOf = (type: GraphQLObjectType) => [...EXTREME_USER_ERRORS].find(([errorClass]) => errorClass.name === type.name)?.[1];

/** The fields of `type` a stored outcome holds, at every depth (relations are read live, not stored). */
const storedFields = (type: GraphQLObjectType) => Object.values(type.getFields()).filter((field) => !readsLive(field));

/** Every stored field of `type`, at every depth. */
function selectionOf(type: GraphQLObjectType, depth = 0): string {
  if (depth > 5) throw new Error(`${type.name} nests too deep for this test`);
  return storedFields(type)
    .map((field) => {
      const named = getNamedType(field.type);
      if (isObjectType(named)) return `${field.name} { ${selectionOf(named, depth + 1)} }`;
      if (isAbstractType(named)) {
        const members = schema.getPossibleTypes(named).map((member) => `... on ${member.name} { ${selectionOf(member, depth + 1)} }`);
        return `${field.name} { __typename ${members.join(" ")} }`;
      }
      return field.name;
    })
    .join(" ");
}

/** The values shown at each leaf of `type`, by path (list items under `[]`), and the leaf's type. */
function collectLeaves(type: GraphQLOutputType, value: unknown, path: string, into: Map<string, { type: string; values: unknown[] }>) {
  if (isNonNullType(type)) return collectLeaves(type.ofType, value, path, into);
  if (value === null) return;
  if (isListType(type)) {
    for (const item of value as unknown[]) collectLeaves(type.ofType, item, `${path}[]`, into);
    return;
  }
  if (isObjectType(type)) {
    for (const field of storedFields(type)) {
      collectLeaves(field.type, (value as Record<string, unknown>)[field.name], `${path}.${field.name}`, into);
    }
    return;
  }
  const leaf = into.get(path) ?? { type: getNamedType(type).name, values: [] };
  leaf.values.push(value);
  into.set(path, leaf);
}

it("has extreme instances of every UserError type in the schema, and of nothing else", () => {
  expect(userErrorTypes.length).toBeGreaterThan(20);
  expect(userErrorTypes.filter((type) => !instancesOf(type)).map((type) => type.name)).toEqual([]);
  expect([...EXTREME_USER_ERRORS.keys()].map((errorClass) => errorClass.name).sort()).toEqual(
    userErrorTypes.map((type) => type.name).sort(),
  );
});

describe.each(userErrorTypes.map((type) => [type.name, type] as const))("%s", (name, type) => {
  it("at the extremes of every field: stored, shown and replayed as it was, plain and sealed at rest", async () => {
    const instances = instancesOf(type) ?? [];
    const leaves = new Map<string, { type: string; values: unknown[] }>();
    for (const mutation of ["answerWithUserError", "answerWithSealedUserError"]) {
      const query = `mutation($input: ${mutation[0]!.toUpperCase()}${mutation.slice(1)}Input!) {
        ${mutation}(input: $input) { __typename ... on ${name} { ${selectionOf(type)} } }
      }`;
      for (const [variant, instance] of instances.entries()) {
        const input = { clientMutationId: `${mutation}-${name}-${variant}`, type: name, variant };
        const first = await t.gql(query, { input });
        expect(first.body.errors, JSON.stringify(first.body.errors)).toBeUndefined();
        const shown = first.body.data[mutation];
        expect(shown).toMatchObject({ __typename: name, code: instance.code, message: instance.message });
        const replay = await t.gql(query, { input });
        expect(replay.body.errors).toBeUndefined();
        expect(replay.body.extensions.idempotency[0].status).toBe("REPLAYED");
        expect(JSON.stringify(replay.body.data)).toBe(JSON.stringify(first.body.data));
        collectLeaves(type, shown, "", leaves);
      }
    }
    // What "extreme" means for each kind of leaf; each one must have been shown at its extremes.
    for (const [path, leaf] of leaves) {
      const leafType = schema.getType(leaf.type)!;
      if (path === ".code" || path === ".message") continue;
      if (leaf.type === "Int") expect(leaf.values, path).toEqual(expect.arrayContaining([INT_MAX, INT_MIN]));
      else if (leaf.type === "BigInt") expect(leaf.values, path).toEqual(expect.arrayContaining([String(BIGINT_MAX), String(BIGINT_MIN)]));
      else if (leaf.type === "String" || leaf.type === "ID") expect(leaf.values, path).toEqual(expect.arrayContaining([LONG, ""]));
      else if (leaf.type === "DateTime") {
        expect(leaf.values, path).toEqual(expect.arrayContaining([DATE_MIN.toISOString(), DATE_MAX.toISOString()]));
      } else if (leaf.type === "JSON") expect(leaf.values, path).toEqual(expect.arrayContaining([EXTREME_JSON]));
      else if (isEnumType(leafType)) {
        expect(new Set(leaf.values), path).toEqual(new Set(leafType.getValues().map((value) => value.name)));
      } else expect.unreachable(`${name}${path} is a ${leaf.type}: add its extremes to this test`);
      expect(isScalarType(leafType) || isEnumType(leafType)).toBe(true);
    }
  });
});
