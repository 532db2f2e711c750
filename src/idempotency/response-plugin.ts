import type { Plugin } from "graphql-yoga";
import type { Context } from "../context.ts";

/**
 * Reports each mutation field's key and status in `extensions.idempotency`, and sets
 * `Idempotent-Replayed: true` on the response when any field was a replay.
 */
export function idempotencyResponsePlugin(): Plugin<Context> {
  const replayed = new WeakSet<Request>();
  return {
    onExecute() {
      return {
        onExecuteDone({ args, result, setResult }) {
          const entries = (args.contextValue as Context).mutationLog;
          if (!entries?.length || Symbol.asyncIterator in result) return;
          if (entries.some((entry) => entry.status === "REPLAYED")) replayed.add((args.contextValue as Context).request);
          setResult({ ...result, extensions: { ...result.extensions, idempotency: entries } });
        },
      };
    },
    onResponse({ request, response }) {
      if (replayed.has(request)) response.headers.set("Idempotent-Replayed", "true");
    },
  };
}
