import { defineIdempotentMutation } from "../../idempotency/mutation-field.ts";
import { rowIdField } from "../../schema/row-ids.ts";
import { KeyNotFoundError, SecretNotKeptError } from "./api-key.errors.ts";
import { createApiKey, updateApiKey } from "./api-key.service.ts";
import { ApiKey } from "./api-key.type.ts";

defineIdempotentMutation("createKey", {
  description: "Creates an API key; with externalId, for that identity (found or created). A replay returns the same secret.",
  input: (t) => ({
    externalId: t.string(),
    name: t.string(),
    meta: t.field({ type: "JSON" }),
    expiresAt: t.field({ type: "DateTime" }),
  }),
  payload: { key: ApiKey, secret: "String" },
  errors: [SecretNotKeptError],
  sensitive: true,
  onlyDatabaseEffects: true,
  run: (input, scope) => createApiKey(scope, input),
});

defineIdempotentMutation("updateKey", {
  description: "Changes a key's name or meta, or its identity: externalId attaches one (found or created), null detaches.",
  input: (t) => ({
    keyId: rowIdField(t, KeyNotFoundError),
    externalId: t.string(),
    name: t.string(),
    meta: t.field({ type: "JSON" }),
  }),
  payload: { key: ApiKey },
  errors: [KeyNotFoundError],
  onlyDatabaseEffects: true,
  run: async (input, { tx, workspaceId }) => ({ key: await updateApiKey(tx, workspaceId, input) }),
});
