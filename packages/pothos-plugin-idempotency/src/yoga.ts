import { type DefinitionNode, type ExecutionResult, GraphQLError, type GraphQLFormattedError, getOperationAST, Kind } from "graphql";
import type { Plugin } from "graphql-yoga";
import { type ErrorOutcome, withOutcome } from "./error-outcome.ts";
import { existingRequestState } from "./request-state.ts";
import type { MutationLogEntry } from "./types.ts";

/**
 * Reports each mutation field's key and status in `extensions.idempotency`, sets
 * `Idempotent-Replayed: true` on the response when every mutation field of it was a replay (none
 * executed, none failed), and gives every error
 * of a mutation field `extensions.outcome`: STORED when the field's outcome was committed (an
 * error of its payload's sub-fields, read after the commit), else what the wrapper said of the
 * failure (UNKNOWN when the commit's reply was lost), NOT_STORED by default. An error of a
 * mutation request outside any field (invalid, unauthenticated, rate limited, the database
 * unreachable while authenticating) ran nothing: NOT_STORED too.
 */
export function useIdempotency(): Plugin {
  const replayed = new WeakSet<Request>();
  /** Requests with a mutation field that executed or failed, or an operation refused whole: never a replay. */
  const notReplayed = new WeakSet<Request>();
  /** Requests with a mutation in their document: their errors outside any field (refused before running) say NOT_STORED. */
  const mutations = new WeakSet<Request>();
  return {
    onParse({ context }) {
      return ({ result }) => {
        const request = (context as { request?: Request }).request;
        if (request && result && "definitions" in result && result.definitions.some(isMutation)) mutations.add(request);
      };
    },
    onResultProcess({ request, result, setResult }) {
      if (!mutations.has(request) || Symbol.asyncIterator in result) return;
      const refused = (one: ExecutionResult): ExecutionResult => {
        if (!one.errors?.some((error) => error.extensions?.outcome === undefined)) return one;
        notReplayed.add(request);
        return { ...one, errors: one.errors.map((error) => (error.extensions?.outcome === undefined ? notRun(error) : error)) };
      };
      setResult(Array.isArray(result) ? result.map(refused) : refused(result));
    },
    onExecute() {
      return {
        onExecuteDone({ args, result, setResult }) {
          if (Symbol.asyncIterator in result) return;
          const ctx = args.contextValue as { request: Request };
          const state = existingRequestState(ctx);
          const entries = state?.log ?? [];
          const mutation = getOperationAST(args.document, args.operationName)?.operation === "mutation";
          const errors =
            mutation && result.errors?.length ? result.errors.map((error) => outcomeOn(error, entries, state?.failures)) : result.errors;
          // A replay only when nothing of the response ran, in any operation of a batch: a client
          // that skips the work of a replay (its cache writes, its own effects) must not skip a
          // field that executed or failed.
          if (entries.some((entry) => entry.status === "REPLAYED")) replayed.add(ctx.request);
          if (state?.failures.size || entries.some((entry) => entry.status !== "REPLAYED")) notReplayed.add(ctx.request);
          if (!entries.length && errors === result.errors) return;
          setResult({ ...result, errors, ...(entries.length ? { extensions: { ...result.extensions, idempotency: entries } } : {}) });
        },
      };
    },
    onResponse({ request, response }) {
      if (replayed.has(request) && !notReplayed.has(request)) response.headers.set("Idempotent-Replayed", "true");
    },
  };
}

function outcomeOn(error: GraphQLError, entries: MutationLogEntry[], failures: Map<string, ErrorOutcome> | undefined): GraphQLError {
  const field = error.path?.[0];
  if (typeof field !== "string") return error;
  const stored = entries.some((entry) => entry.field === field);
  const outcome: ErrorOutcome = stored ? "STORED" : (failures?.get(field) ?? "NOT_STORED");
  return withOutcome(error, outcome);
}

function isMutation(definition: DefinitionNode): boolean {
  return definition.kind === Kind.OPERATION_DEFINITION && definition.operation === "mutation";
}

/** An error of the whole request (validation, authentication, the rate limit): nothing ran. */
function notRun(error: GraphQLError | GraphQLFormattedError): GraphQLError {
  const located = error instanceof GraphQLError ? error : new GraphQLError(error.message, { extensions: error.extensions });
  return withOutcome(located, "NOT_STORED");
}
