import { costLimitPlugin } from "@escape.tech/graphql-armor-cost-limit";
import { maxAliasesPlugin } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthPlugin } from "@escape.tech/graphql-armor-max-depth";
import { GraphQLError, Lexer, Source, TokenKind } from "graphql";
import type { Plugin } from "graphql-yoga";

/**
 * Bounds on what one operation may ask for, checked while it is parsed and validated, before
 * anything runs. The deepest client operation here is 5 levels; GraphiQL's introspection query
 * counts 21, and introspection counts too (a deep `ofType` chain is a known way to exhaust a server).
 */
export const QUERY_LIMITS = { depth: 24, cost: 5_000, aliases: 30, tokens: 3_000 } as const;

/** A refused operation is the client's mistake: HTTP 400, as for any invalid operation. */
const badRequest = [
  (_context: unknown, error: GraphQLError) => {
    (error.extensions as Record<string, unknown>).http = { status: 400 };
  },
];

export function queryLimitPlugins(): Plugin[] {
  const common = { exposeLimits: true, onReject: badRequest };
  return [
    maxDepthPlugin({ n: QUERY_LIMITS.depth, ignoreIntrospection: false, ...common }),
    costLimitPlugin({ maxCost: QUERY_LIMITS.cost, ignoreIntrospection: true, ...common }),
    maxAliasesPlugin({ n: QUERY_LIMITS.aliases, ...common }),
    maxTokensPlugin(QUERY_LIMITS.tokens),
  ] as Plugin[];
}

/**
 * The token limit, checked on the operation's text before it is parsed. (graphql-armor's max-tokens
 * counts while parsing, and yoga marks anything parsing throws as a GraphQL-over-HTTP parse error,
 * which it answers with 200 to `accept: application/json`.) Refused here, it is a 400 whatever the
 * client accepts, as the other limits are, with the code and message a parse error has. The count
 * is the parser's (every token but the end; comments are none) and stops at the limit.
 */
function maxTokensPlugin(limit: number): Plugin {
  return {
    onParams({ params }) {
      if (typeof params.query !== "string" || !exceedsTokenLimit(params.query, limit)) return;
      throw new GraphQLError(`Syntax Error: Token limit of ${limit} exceeded.`, {
        extensions: { code: "GRAPHQL_PARSE_FAILED", http: { status: 400 } },
      });
    },
  };
}

function exceedsTokenLimit(query: string, limit: number): boolean {
  const lexer = new Lexer(new Source(query));
  try {
    for (let count = 1; lexer.advance().kind !== TokenKind.EOF; count++) if (count > limit) return true;
  } catch {
    // Not GraphQL: the parser says so, and where.
  }
  return false;
}
