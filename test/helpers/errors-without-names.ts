/**
 * A mutation whose errors' `name`s say nothing: both are "Error", as they are for any subclass that
 * never sets one. Imported (for its side effect) before the app, so the schema includes it; each
 * test file has a module graph of its own, so no other file sees it.
 */
import { defineIdempotentMutation } from "../../src/idempotency/mutation-field.ts";
import { userError } from "../../src/schema/errors.ts";
import { userErrorType } from "../../src/schema/user-error.type.ts";

export class FirstTestError extends userError("FIRST_TEST") {
  constructor(readonly detail: string) {
    super(`first: ${detail}`);
    this.name = "Error";
  }
}

export class SecondTestError extends userError("SECOND_TEST") {
  constructor(readonly detail: string) {
    super(`second: ${detail}`);
    this.name = "Error";
  }
}

userErrorType(FirstTestError, { fields: (t) => ({ detail: t.exposeString("detail") }) });
userErrorType(SecondTestError, { fields: (t) => ({ detail: t.exposeString("detail") }) });

defineIdempotentMutation("failWithTestError", {
  input: (t) => ({ which: t.string({ required: true }), detail: t.string({ required: true }) }),
  payload: { ok: "Boolean" },
  errors: [FirstTestError, SecondTestError],
  run: async ({ which, detail }) => {
    throw which === "first" ? new FirstTestError(detail) : new SecondTestError(detail);
  },
});
