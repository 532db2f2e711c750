import type { ErrorOutcome } from "./error-outcome.ts";
import type { MutationLogEntry } from "./types.ts";

/** What the mutation fields of one request did with their keys, kept beside its GraphQL context. */
export interface RequestState {
  /** What each mutation field did with its clientMutationId, for `extensions.idempotency`. */
  log: MutationLogEntry[];
  /** What each mutation field that failed left of its key, by response key. */
  failures: Map<string, ErrorOutcome>;
}

const states = new WeakMap<object, RequestState>();

/** The request's state, by its context object (the one the resolvers get). */
export function requestState(context: object): RequestState {
  let state = states.get(context);
  if (!state) {
    state = { log: [], failures: new Map() };
    states.set(context, state);
  }
  return state;
}

/** The state, if any mutation field of the request recorded one. */
export function existingRequestState(context: object): RequestState | undefined {
  return states.get(context);
}
