import { defineIdempotentMutation } from "../../idempotency/mutation-field.ts";
import { IdentityAlreadyExistsError } from "./identity.errors.ts";
import { createIdentity } from "./identity.service.ts";
import { Identity } from "./identity.type.ts";

defineIdempotentMutation("createIdentity", {
  description: "Creates an identity with an externalId that is new in this workspace.",
  input: (t) => ({
    externalId: t.string({ required: true }),
    meta: t.field({ type: "JSON" }),
  }),
  payload: { identity: Identity },
  errors: [IdentityAlreadyExistsError],
  onlyDatabaseEffects: true,
  run: async (input, scope) => ({
    identity: await createIdentity(scope, { externalId: input.externalId, meta: input.meta }),
  }),
});
