import { defineIdempotentMutation } from "../../idempotency/mutation-field.ts";
import { rowIdField } from "../../schema/row-ids.ts";
import { confirmHold, voidHold } from "./hold.service.ts";
import { Hold } from "./hold.type.ts";
import { Transaction } from "./transaction.type.ts";
import { AmountExceedsHoldError, HoldNotFoundError, HoldNotPendingError } from "./wallet.errors.ts";

defineIdempotentMutation("confirmHold", {
  description:
    "Confirms amount of a pending hold (all that remains when omitted). With final, or once nothing remains, the hold is " +
    "CONFIRMED and what remains goes back to the balances it came from.",
  input: (t) => ({
    holdId: rowIdField(t, HoldNotFoundError),
    amount: t.field({ type: "BigInt", description: "Minor units of the hold's asset." }),
    final: t.boolean({ required: true, defaultValue: false }),
  }),
  payload: { hold: Hold, transaction: Transaction },
  errors: [HoldNotFoundError, HoldNotPendingError, AmountExceedsHoldError],
  onlyDatabaseEffects: true,
  run: (input, scope) => confirmHold(scope, input),
});

defineIdempotentMutation("voidHold", {
  description: "Sends everything a pending hold still holds back to the balances it came from.",
  input: (t) => ({ holdId: rowIdField(t, HoldNotFoundError) }),
  payload: { hold: Hold },
  errors: [HoldNotFoundError, HoldNotPendingError],
  onlyDatabaseEffects: true,
  run: async (input, scope) => ({ hold: (await voidHold(scope, input.holdId)).hold }),
});
