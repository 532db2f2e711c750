import { Decimal as PrismaDecimal } from "@prisma/client/runtime/client";
import type { ValueClass } from "../typed-json.ts";

/**
 * What a Decimal must offer to be stored: decimal.js's API, which Prisma's Decimal is (a bundled
 * copy of decimal.js, its class named `Decimal2` by the bundler).
 */
export interface DecimalLike {
  toString(): string;
  toFixed(): string;
  isZero(): boolean;
  isNegative(): boolean;
}

/** A Decimal class to revive stored Decimals with: Prisma's, or decimal.js itself. */
export type DecimalConstructor = new (value: string) => DecimalLike;

/**
 * Whether `value` is a Decimal: an instance of Prisma's class, or of another copy of decimal.js
 * (a second Prisma runtime in node_modules, decimal.js itself), told by its class's own
 * `isDecimal` or by its `Symbol.toStringTag`, as decimal.js marks its instances.
 */
export function isDecimal(value: unknown): value is DecimalLike {
  if (value instanceof PrismaDecimal) return true;
  if (value === null || typeof value !== "object") return false;
  const candidate = value as Partial<DecimalLike> & { constructor?: { isDecimal?: (value: unknown) => unknown } };
  if (typeof candidate.toFixed !== "function" || typeof candidate.isZero !== "function" || typeof candidate.isNegative !== "function") {
    return false;
  }
  const isDecimalOfItsClass = candidate.constructor?.isDecimal;
  return (
    (typeof isDecimalOfItsClass === "function" && isDecimalOfItsClass.call(candidate.constructor, value) === true) ||
    (value as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === "Decimal"
  );
}

/**
 * The value classes of what Prisma returns beyond JSON, BigInt, Date and bytes (which every
 * outcome keeps already): its `Decimal`, stored exactly as its string (never a float) and made
 * again as Prisma's `Decimal` (from `@prisma/client/runtime/client`, the class a generated
 * client's `Prisma.Decimal` is). Pass `{ Decimal }` to revive with another class, e.g. the
 * `Prisma.Decimal` of a client generated against another copy of `@prisma/client`.
 *
 * `prismaDriver` registers these itself; with another driver over a Prisma client, pass them as
 * `createIdempotency({ driver, values: prismaValues() })`.
 */
export function prismaValues(options: { Decimal?: DecimalConstructor } = {}): ValueClass[] {
  const Decimal: DecimalConstructor = options.Decimal ?? PrismaDecimal;
  const decimal: ValueClass<DecimalLike, string> = {
    name: "Decimal",
    is: isDecimal,
    // decimal.js writes -0 as "0"; keep its sign, which its constructor reads back from "-0".
    toJSON: (value) => (value.isZero() && value.isNegative() ? "-0" : value.toString()),
    fromJSON: (text) => new Decimal(text),
  };
  return [decimal];
}
