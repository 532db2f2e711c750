/**
 * A mutation whose UserError holds, while `bug.on`, a count its GraphQL type cannot show (an Int
 * past 2^31−1, in an object in a list): the bug of a domain that forgot a bound. Imported (for its
 * side effect) before the app, so the schema includes it; no other test file sees it.
 */

import { defineIdempotentMutation } from "../../src/idempotency/mutation-field.ts";
import { builder } from "../../src/schema/builder.ts";
import { userError } from "../../src/schema/errors.ts";
import { userErrorType } from "../../src/schema/user-error.type.ts";

/** `runs` counts the mutation's executions. */
export const bug = { on: true, runs: 0 };

export class TallyError extends userError("TALLY") {
  constructor(readonly tallies: { count: number }[]) {
    super(`tallies: ${tallies.map((tally) => tally.count).join(", ")}`);
  }
}

const Tally = builder.objectRef<{ count: number }>("Tally").implement({ fields: (t) => ({ count: t.exposeInt("count") }) });
userErrorType(TallyError, { fields: (t) => ({ tallies: t.field({ type: [Tally], resolve: (error) => error.tallies }) }) });

defineIdempotentMutation("tally", {
  input: (t) => ({ label: t.string({ required: true }) }),
  payload: { ok: "Boolean" },
  errors: [TallyError],
  run: async () => {
    bug.runs++;
    throw new TallyError([{ count: 1 }, { count: bug.on ? 2 ** 31 : 2 ** 31 - 1 }]);
  },
});
