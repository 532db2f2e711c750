import { defineIdempotentMutation } from "../../idempotency/mutation-field.ts";
import { KeyNotFoundError } from "./key.errors.ts";
import { createKey, updateKey } from "./key.service.ts";
import { ApiKey } from "./key.type.ts";

defineIdempotentMutation("createKey", {
  description: "Creates an API key; with externalId, for that identity (found or created). A replay returns the same secret.",
  input: (t) => ({
    externalId: t.string(),
    name: t.string(),
    meta: t.field({ type: "JSON" }),
    expiresAt: t.field({ type: "DateTime" }),
  }),
  payload: { key: ApiKey, secret: "String" },
  sensitive: true,
  run: (input, { tx, workspaceId }) => createKey(tx, workspaceId, input),
});

defineIdempotentMutation("updateKey", {
  description: "Changes a key's name or meta, or its identity: externalId attaches one (found or created), null detaches.",
  input: (t) => ({
    keyId: t.id({ required: true }),
    externalId: t.string(),
    name: t.string(),
    meta: t.field({ type: "JSON" }),
  }),
  payload: { key: ApiKey },
  errors: [KeyNotFoundError],
  run: async (input, { tx, workspaceId }) => ({ key: await updateKey(tx, workspaceId, input) }),
});
