import { GraphQLError, Kind } from "graphql";
import { DateTimeResolver, JSONResolver } from "graphql-scalars";
import { builder } from "./builder.ts";

const DECIMAL = /^-?\d{1,30}$/;

function parseBigInt(value: unknown): bigint {
  if (typeof value === "bigint") return value;
  if (typeof value === "number" && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === "string" && DECIMAL.test(value)) return BigInt(value);
  throw new GraphQLError(`BigInt must be a whole number, as a decimal string or an integer: ${JSON.stringify(value)}`);
}

builder.scalarType("BigInt", {
  description: "A whole number of any size (money in minor units), serialized as a decimal string.",
  serialize: (value) => parseBigInt(value).toString(),
  parseValue: parseBigInt,
  parseLiteral: (ast) => {
    if (ast.kind === Kind.INT || ast.kind === Kind.STRING) return parseBigInt(ast.value);
    throw new GraphQLError("BigInt must be a string or an integer literal", { nodes: ast });
  },
});

builder.addScalarType("DateTime", DateTimeResolver);
builder.addScalarType("JSON", JSONResolver);
