import { expect } from "vitest";

/** The member of a typed result union named `typename`, after checking it is that one. */
export function as<T extends { __typename?: string }, N extends NonNullable<T["__typename"]>>(
  value: T | null | undefined,
  typename: N,
): Extract<T, { __typename?: N }> {
  expect(value?.__typename, JSON.stringify(value)).toBe(typename);
  return value as Extract<T, { __typename?: N }>;
}
