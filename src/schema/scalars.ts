import { GraphQLError, Kind, type ValueNode } from "graphql";
import { DateTimeResolver, JSONResolver } from "graphql-scalars";
import { builder } from "./builder.ts";

const DECIMAL = /^-?\d{1,30}$/;
const RULE = 'A BigInt is an integer, sent as a decimal string such as "-1234" (an optional minus sign and 1–30 digits) or an integer';

/**
 * Every spelling of one value is one value (10, "10", "010", 1e1 and 10.0 as JSON numbers), so it
 * fingerprints as one input. A JSON number is taken only while it is exact: past 2^53−1 the
 * request's JSON parser has already rounded it (9007199254740993 arrives as ...992), so it is
 * refused rather than taken as a neighbour; as a string, any size is exact.
 */
function parseBigInt(value: unknown, nodes?: ValueNode): bigint {
  if (typeof value === "bigint") return value;
  if (typeof value === "string") {
    if (DECIMAL.test(value)) return BigInt(value);
    throw refused(
      `${JSON.stringify(value.slice(0, 40))}${value.length > 40 ? "…" : ""} is not one (no spaces, +, exponent, fraction or 0x)`,
      nodes,
    );
  }
  if (typeof value === "number") {
    if (Number.isSafeInteger(value)) return BigInt(value);
    if (!Number.isFinite(value))
      throw refused("this JSON number is too large to be read at all (such as 1e400); send it as a decimal string");
    if (!Number.isInteger(value)) throw refused(`${value} is not an integer`);
    throw refused(`a JSON number past 2^53−1 (${value} as read) may have lost digits on the way; send it as a decimal string`);
  }
  throw refused(
    `got ${Array.isArray(value) ? "a list" : value === null ? "null" : typeof value === "object" ? "an object" : `a ${typeof value}`}`,
    nodes,
  );
}

function refused(detail: string, nodes?: ValueNode): GraphQLError {
  return new GraphQLError(`${RULE}: ${detail}.`, { nodes });
}

builder.scalarType("BigInt", {
  description:
    'An integer of any size (money in minor units), serialized as a decimal string. Send a decimal string ("-1234": an ' +
    "optional minus sign and 1–30 digits) or an integer literal; a JSON number only up to 2^53−1, where JSON numbers are exact.",
  serialize: (value) => parseBigInt(value).toString(),
  parseValue: (value) => parseBigInt(value),
  parseLiteral: (ast) => {
    if (ast.kind === Kind.INT || ast.kind === Kind.STRING) return parseBigInt(ast.value, ast);
    if (ast.kind === Kind.FLOAT) throw refused(`${ast.value} is a float literal; write ${floatHint(ast.value)}`, ast);
    throw refused(`got ${LITERALS[ast.kind] ?? ast.kind}`, ast);
  },
});

const LITERALS: Partial<Record<Kind, string>> = {
  [Kind.BOOLEAN]: "a boolean",
  [Kind.LIST]: "a list",
  [Kind.OBJECT]: "an object",
  [Kind.ENUM]: "an enum value",
  [Kind.NULL]: "null",
};

/** What to write instead of a float literal that holds an integer (1e3, 10.0), or a plain hint. */
function floatHint(text: string): string {
  const value = Number(text);
  return Number.isSafeInteger(value) ? `${value}` : "an integer literal or a decimal string";
}

/** The fraction of a second an RFC 3339 date-time spells, if any. */
const FRACTION = /^\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d\.(\d+)/;

/**
 * A DateTime is stored to the millisecond (timestamptz(3)), and a JavaScript Date holds no more:
 * a finer instant was read as the millisecond below it, so `...00.0009Z` replayed `...00.000Z`.
 * It is refused instead; trailing zeros (`.000000Z`) say nothing finer and are taken. Every other
 * spelling of one instant (`Z`, `z`, `+00:00`, `+01:00` an hour later) is one Date, fingerprinted
 * in its ISO form, so one input.
 */
function requireMilliseconds(value: unknown, nodes?: ValueNode): void {
  if (typeof value !== "string") return;
  const fraction = FRACTION.exec(value)?.[1];
  if (fraction && /[1-9]/.test(fraction.slice(3))) {
    throw new GraphQLError(
      `A DateTime is kept to the millisecond: ${JSON.stringify(value.slice(0, 40))} is finer (${fraction.length} digits of a second); send at most 3.`,
      { nodes },
    );
  }
}

builder.scalarType("DateTime", {
  description:
    "An instant, as an RFC 3339 date-time string such as 2007-12-03T10:15:30.123Z, to the millisecond (any offset; " +
    "a finer fraction of a second is refused). Answered in UTC.",
  serialize: (value) => DateTimeResolver.serialize(value),
  parseValue: (value) => {
    requireMilliseconds(value);
    return DateTimeResolver.parseValue(value);
  },
  parseLiteral: (ast) => {
    if (ast.kind === Kind.STRING) requireMilliseconds(ast.value, ast);
    return DateTimeResolver.parseLiteral(ast, undefined);
  },
});
builder.addScalarType("JSON", JSONResolver, {
  description:
    "Any JSON value, kept as sent. A number is kept only when a double holds it exactly (0.1, 1e300, 2^53); one that " +
    "reads as another (9007199254740993, 1e400) is refused naming its path: send it as a string.",
});
