import { costLimitPlugin } from "@escape.tech/graphql-armor-cost-limit";
import { maxAliasesPlugin } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthPlugin } from "@escape.tech/graphql-armor-max-depth";
import { maxTokensPlugin } from "@escape.tech/graphql-armor-max-tokens";
import type { GraphQLError } from "graphql";
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
    maxTokensPlugin({ n: QUERY_LIMITS.tokens, ...common }),
  ] as Plugin[];
}
