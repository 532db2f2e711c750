import { parse } from "graphql";
import { describe, expect, it } from "vitest";
import { keyMutation } from "../../packages/client/src/keys.ts";

let counter = 0;
const next = () => `key-${++counter}`;
const key = (source: string, variables: Record<string, unknown>, operationName?: string) =>
  keyMutation(parse(source), operationName, variables, next);

describe("which inputs a link keys, read from the document alone", () => {
  it("the `input` argument of a mutation's root field, bound to a variable of a type named ...Input: a fresh key, the rest kept", () => {
    counter = 0;
    const keyed = key("mutation M($in: CreateKeyInput!) { createKey(input: $in) { __typename } }", { in: { name: "a" }, other: 1 });
    expect(keyed).toEqual({
      variables: { in: { name: "a", clientMutationId: "key-1" }, other: 1 },
      clientMutationIds: ["key-1"],
      retryable: true,
    });
  });

  it("keeps the caller's key", () => {
    const keyed = key("mutation($input: CreateKeyInput!) { createKey(input: $input) { __typename } }", {
      input: { clientMutationId: "mine" },
    });
    expect(keyed?.variables).toEqual({ input: { clientMutationId: "mine" } });
    expect(keyed?.clientMutationIds).toEqual(["mine"]);
  });

  it("finds root fields through fragments, and keys each field's input", () => {
    counter = 0;
    const source = `mutation Two($a: AInput!, $b: BInput) { ...F ... on Mutation { b: doB(input: $b) { __typename } } }
      fragment F on Mutation { a: doA(input: $a) { __typename } }`;
    expect(key(source, { a: {}, b: {} })).toMatchObject({
      variables: { a: { clientMutationId: "key-1" }, b: { clientMutationId: "key-2" } },
      retryable: true,
    });
  });

  it("leaves queries, other argument names, other type names, lists and non-objects alone", () => {
    expect(key("query Q($input: FindInput!) { find(input: $input) }", { input: {} })).toBeUndefined();
    expect(key("mutation($data: CreateKeyInput!) { createKey(data: $data) { __typename } }", { data: {} })).toBeUndefined();
    expect(key("mutation($input: CreateKeyArgs!) { createKey(input: $input) { __typename } }", { input: {} })).toBeUndefined();
    expect(key("mutation($input: [CreateKeyInput!]!) { createKey(input: $input) { __typename } }", { input: [{}] })).toBeUndefined();
    expect(key("mutation($input: CreateKeyInput) { createKey(input: $input) { __typename } }", {})).toBeUndefined();
  });

  it("an inline input that spells clientMutationId is keyed by the caller; a mutation with an unkeyed field is keyed but never retried", () => {
    expect(key('mutation { createKey(input: { clientMutationId: "x", name: "a" }) { __typename } }', {})).toMatchObject({
      retryable: true,
    });
    const mixed = key("mutation($input: CreateKeyInput!) { createKey(input: $input) { __typename } logout __typename }", { input: {} });
    expect(mixed).toMatchObject({ retryable: false, clientMutationIds: [expect.any(String)] });
  });

  it("picks the named operation of a document with several", () => {
    const source = "query Q { a } mutation M($input: XInput!) { x(input: $input) }";
    expect(key(source, { input: {} }, "M")?.retryable).toBe(true);
    expect(key(source, { input: {} }, "Q")).toBeUndefined();
    expect(key(source, { input: {} })).toBeUndefined();
  });
});
