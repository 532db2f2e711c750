import type { RetryOptions } from "./retry-policy.ts";

/** The options of the Apollo Link, the urql exchange and the fetch. */
export interface IdempotencyOptions extends RetryOptions {
  /** Makes a key for a mutation sent without one (default: a random UUID). */
  newKey?: () => string;
}

/**
 * A random UUID v4. `crypto.randomUUID` exists only in secure contexts (a page served over plain
 * HTTP from another host has none); `getRandomValues` exists everywhere.
 */
export function newKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// The few AST shapes read here, written out so that graphql's and urql's (@0no-co/graphql.web) documents both fit.
interface Name {
  readonly value: string;
}
interface TypeRef {
  readonly kind: string;
  readonly name?: Name;
  readonly type?: TypeRef;
}
interface Value {
  readonly kind: string;
  readonly name?: Name;
  readonly fields?: readonly { readonly name: Name }[];
}
interface Selection {
  readonly kind: string;
  readonly name?: Name;
  readonly arguments?: readonly { readonly name: Name; readonly value: Value }[];
  readonly selectionSet?: { readonly selections: readonly Selection[] };
}
interface Definition {
  readonly kind: string;
  readonly operation?: string;
  readonly name?: Name;
  readonly variableDefinitions?: readonly { readonly variable: { readonly name: Name }; readonly type: TypeRef }[];
  readonly selectionSet?: { readonly selections: readonly Selection[] };
}
export interface DocumentLike {
  readonly definitions: readonly Definition[];
}

export interface KeyedMutation {
  /** The variables to send: the caller's, with a fresh `clientMutationId` in each keyed input that had none. */
  variables: Record<string, unknown>;
  /** Every key the operation is sent with, the caller's and the fresh ones. */
  clientMutationIds: string[];
  /**
   * Whether the operation may be sent again: every field of the mutation is keyed. A mutation with
   * a field that takes no key would run that field twice.
   */
  retryable: boolean;
}

/**
 * The keyed inputs of a mutation, found in its document without the schema. A root field of the
 * mutation (through fragments too) is keyed when its argument `input` is
 * - a variable declared with a named input type whose name ends in `Input` (`$input: CreateKeyInput!`;
 *   not a list), whose value is an object: the key goes in that object's `clientMutationId`, kept
 *   when the caller gave one (neither null nor undefined);
 * - or an object literal that spells `clientMutationId` (the caller's key, nothing to add).
 * That is Relay's input-object convention (`name(input: NameInput!)`, `clientMutationId` in every
 * input), which onceql's plugin generates. Undefined for a query, a subscription, or a mutation
 * with no keyed field: those are sent untouched and never retried.
 */
export function keyMutation(
  document: DocumentLike,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | undefined,
  makeKey: () => string = newKey,
): KeyedMutation | undefined {
  const operations = document.definitions.filter((definition) => definition.kind === "OperationDefinition");
  const operation = operationName ? operations.find((definition) => definition.name?.value === operationName) : operations[0];
  if (operation?.operation !== "mutation" || (!operationName && operations.length !== 1)) return undefined;
  const fragments = new Map(
    document.definitions
      .filter((definition) => definition.kind === "FragmentDefinition")
      .map((definition) => [definition.name?.value, definition] as const),
  );
  const inputTypes = new Map<string, string>();
  for (const definition of operation.variableDefinitions ?? []) {
    const type = definition.type.kind === "NonNullType" ? definition.type.type : definition.type;
    if (type?.kind === "NamedType" && type.name?.value.endsWith("Input")) inputTypes.set(definition.variable.name.value, type.name.value);
  }

  const next = { ...variables };
  const keys = new Set<string>();
  let keyed = 0;
  let fields = 0;
  const visit = (selections: readonly Selection[], seen: Set<string>) => {
    for (const selection of selections) {
      if (selection.kind === "InlineFragment") visit(selection.selectionSet?.selections ?? [], seen);
      if (selection.kind === "FragmentSpread") {
        const name = selection.name?.value ?? "";
        if (!seen.has(name)) visit(fragments.get(name)?.selectionSet?.selections ?? [], new Set([...seen, name]));
      }
      if (selection.kind !== "Field" || selection.name?.value.startsWith("__")) continue;
      fields++;
      const input = selection.arguments?.find((argument) => argument.name.value === "input")?.value;
      if (input?.kind === "ObjectValue" && input.fields?.some((field) => field.name.value === "clientMutationId")) keyed++;
      const variable = input?.kind === "Variable" ? input.name?.value : undefined;
      if (variable === undefined || !inputTypes.has(variable)) continue;
      const value = next[variable];
      if (typeof value !== "object" || value === null || Array.isArray(value)) continue;
      const given = (value as { clientMutationId?: unknown }).clientMutationId;
      if (given == null) {
        const key = makeKey();
        next[variable] = { ...value, clientMutationId: key };
        keys.add(key);
      } else if (typeof given === "string") {
        keys.add(given);
      }
      keyed++;
    }
  };
  visit(operation.selectionSet?.selections ?? [], new Set());
  if (keyed === 0) return undefined;
  return { variables: next, clientMutationIds: [...keys], retryable: keyed === fields };
}

/** The name of a document's only operation, for logs. */
export function operationNameOf(document: DocumentLike): string | undefined {
  const operations = document.definitions.filter((definition) => definition.kind === "OperationDefinition");
  return operations.length === 1 ? operations[0]?.name?.value : undefined;
}
