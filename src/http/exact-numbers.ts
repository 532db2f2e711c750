import type { GraphQLParams, Plugin } from "graphql-yoga";
import { type InexactNumber, readsExactly } from "../schema/exact-numbers.ts";

const inexactByVariables = new WeakMap<object, InexactNumber[]>();

/**
 * The numbers of this operation's variables that JSON.parse read as other numbers, by variable
 * path (`["input", "meta", "n"]`); none for most requests. See requireExactNumbers.
 */
export function inexactNumbersOf(params: GraphQLParams | undefined): readonly InexactNumber[] {
  const variables = params?.variables;
  return (variables && typeof variables === "object" && inexactByVariables.get(variables)) || [];
}

/**
 * A JSON body's numbers as the client wrote them. yoga reads the body with JSON.parse, which
 * turns 9007199254740993 into 9007199254740992 before any resolver runs, and nothing can tell them
 * apart afterwards (Node 20's JSON.parse has no access to a number's source text). So the body is
 * read as text here, handed on to yoga's own parser unchanged, and scanned for numbers that do not
 * read exactly; those are remembered beside each operation's variables, for the mutation to refuse.
 */
export function exactNumbers(): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      if (!requestParser || request.method !== "POST" || !/json/i.test(request.headers.get("content-type") ?? "")) return;
      setRequestParser(async (incoming) => {
        const text = await incoming.text();
        const parsed = await requestParser(
          new fetchAPI.Request(incoming.url, { method: incoming.method, headers: incoming.headers, body: text }),
        );
        const inexact = inexactNumbersIn(text);
        if (inexact.length === 0) return parsed;
        if (Array.isArray(parsed)) for (const [i, params] of parsed.entries()) remember(params, inexact, i);
        else if (!(parsed instanceof fetchAPI.Response)) remember(parsed, inexact, undefined);
        return parsed;
      });
    },
  };
}

function remember(params: GraphQLParams, inexact: InexactNumber[], index: number | undefined): void {
  const variables = params.variables;
  if (!variables || typeof variables !== "object") return;
  const prefix = index === undefined ? ["variables"] : [index, "variables"];
  const own = inexact
    .filter((number) => prefix.every((step, i) => number.path[i] === step))
    .map((number) => ({ path: number.path.slice(prefix.length), text: number.text }));
  if (own.length > 0) inexactByVariables.set(variables, own);
}

const STRING_OR_NUMBER = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;
const STRING = /"(?:[^"\\]|\\.)*"/y;
const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * The numbers of a JSON text that do not read exactly, with their paths. A regular expression
 * finds whether there is any (strings skipped whole, so no digit of a string counts); only then is
 * the text walked to say where. Malformed JSON gives no useful paths, but yoga refuses it anyway.
 */
export function inexactNumbersIn(text: string): InexactNumber[] {
  for (const [token] of text.matchAll(STRING_OR_NUMBER)) {
    if (token[0] !== '"' && !readsExactly(token)) return locate(text);
  }
  return [];
}

function locate(text: string): InexactNumber[] {
  const found: InexactNumber[] = [];
  const path: (string | number)[] = [];
  const arrays: boolean[] = [];
  let key = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      STRING.lastIndex = i;
      const token = STRING.exec(text)?.[0] ?? text.slice(i);
      if (key) path[path.length - 1] = JSON.parse(token) as string;
      key = false;
      i += token.length;
    } else if (c === "-" || (c >= "0" && c <= "9")) {
      NUMBER.lastIndex = i;
      const token = NUMBER.exec(text)?.[0] ?? c;
      if (!readsExactly(token)) found.push({ path: [...path], text: token });
      i += token.length;
    } else {
      if (c === "{" || c === "[") {
        arrays.push(c === "[");
        path.push(c === "[" ? 0 : "");
        key = c === "{";
      } else if (c === "}" || c === "]") {
        arrays.pop();
        path.pop();
      } else if (c === ",") {
        if (arrays.at(-1)) path[path.length - 1] = (path.at(-1) as number) + 1;
        else key = true;
      }
      i++;
    }
  }
  return found;
}
