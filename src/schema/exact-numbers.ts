import {
  type GraphQLInputType,
  type GraphQLResolveInfo,
  getNamedType,
  getNullableType,
  isInputObjectType,
  isListType,
  Kind,
  type ValueNode,
} from "graphql";
import { InvalidInputError } from "./errors.ts";

/** A number of a request's JSON that the server reads as another number, where it was in the JSON. */
export interface InexactNumber {
  path: (string | number)[];
  /** The number as the client wrote it. */
  text: string;
}

const SHORT_INTEGER = /^-?\d{1,15}$/;
const NUMBER = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/**
 * Whether the double a JSON parser reads from `text` is the number `text` says: what it writes
 * back (the shortest form that reads as that double) has the same decimal value. 0.1, 1.0, 1e2
 * and 2^53 do; 9007199254740993 (read as ...992), 0.10000000000000000001 (read as 0.1), 1e400
 * (Infinity) and 1e-400 (0) do not. This is the only question the server can ask: the double
 * alone cannot say what was sent.
 */
export function readsExactly(text: string): boolean {
  if (SHORT_INTEGER.test(text)) return true;
  const read = Number(text);
  if (!Number.isFinite(read)) return false;
  const sent = decimalOf(text);
  const written = decimalOf(String(read));
  return sent !== undefined && written !== undefined && sent === written;
}

/** A decimal's value in one spelling: sign, significant digits, and the exponent of its first digit. */
function decimalOf(text: string): string | undefined {
  const match = NUMBER.exec(text);
  if (!match) return undefined;
  const [, sign, whole, fraction = "", exponent = "0"] = match;
  const digits = `${whole}${fraction}`;
  const first = digits.search(/[1-9]/);
  if (first === -1) return "0";
  const significant = digits.slice(first).replace(/0+$/, "");
  return `${sign}${significant}e${Number(exponent) + whole!.length - first}`;
}

/**
 * Refuses an input holding a number that was read as another number, naming the input field that
 * holds it: a literal of a JSON field (the only place where a literal's text is not the scalar's
 * own to judge: BigInt reads its literals exactly), or any number of the request's variables the
 * mutation's input takes (`inexact`, found in the request's text by exactNumbers in
 * src/http/exact-numbers.ts), wherever in the input it lands. Without this, 9007199254740993 was
 * stored as ...992, and ...992 replayed it: two inputs, one fingerprint.
 */
export function requireExactNumbers(info: GraphQLResolveInfo, inexact: readonly InexactNumber[]): void {
  const field = info.parentType.getFields()[info.fieldName];
  const argument = info.fieldNodes[0]?.arguments?.find((arg) => arg.name.value === "input");
  const type = field?.args.find((arg) => arg.name === "input")?.type;
  if (!argument || !type) return;
  const found = inexactIn(argument.value, type, [], inexact);
  if (!found) return;
  const path = found.path.join(".");
  throw new InvalidInputError(
    String(found.path[0]),
    `${path} holds the number ${found.text.slice(0, 40)}, which a JSON number cannot hold exactly (it reads as ${Number(found.text)}); send it as a string`,
  );
}

function inexactIn(
  node: ValueNode,
  type: GraphQLInputType,
  path: (string | number)[],
  inexact: readonly InexactNumber[],
): InexactNumber | undefined {
  switch (node.kind) {
    case Kind.VARIABLE: {
      const sent = inexact.find((number) => number.path[0] === node.name.value);
      return sent && { path: [...path, ...sent.path.slice(1)], text: sent.text };
    }
    case Kind.OBJECT: {
      const named = getNamedType(type);
      for (const child of node.fields) {
        const childType = isInputObjectType(named) ? named.getFields()[child.name.value]?.type : named;
        const found = childType && inexactIn(child.value, childType, [...path, child.name.value], inexact);
        if (found) return found;
      }
      return undefined;
    }
    case Kind.LIST: {
      const nullable = getNullableType(type);
      const itemType = isListType(nullable) ? nullable.ofType : type;
      for (const [i, item] of node.values.entries()) {
        const found = inexactIn(item, itemType, [...path, i], inexact);
        if (found) return found;
      }
      return undefined;
    }
    case Kind.INT:
    case Kind.FLOAT:
      return getNamedType(type).name === "JSON" && !readsExactly(node.value) ? { path, text: node.value } : undefined;
    default:
      return undefined;
  }
}
