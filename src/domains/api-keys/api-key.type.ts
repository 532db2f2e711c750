import { builder } from "../../schema/builder.ts";
import { userErrorType } from "../../schema/user-error.type.ts";
import { KeyNotFoundError, SecretNotKeptError } from "./api-key.errors.ts";
import type { ApiKeyVerification } from "./api-key.service.ts";

export const ApiKey = builder.prismaObject("ApiKey", {
  description: "An API key. Its secret is shown once, in createKey's payload, and stored only as a hash.",
  // A key read from a stored outcome carries its row, so its relations load by this unique key.
  findUnique: (key) => ({ workspaceId_id: { workspaceId: key.workspaceId, id: key.id } }),
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name", { nullable: true }),
    meta: t.expose("meta", { type: "JSON", nullable: true }),
    expiresAt: t.expose("expiresAt", { type: "DateTime", nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    updatedAt: t.expose("updatedAt", { type: "DateTime" }),
    identity: t.relation("identity", { nullable: true }),
  }),
});

export const KeyVerification = builder.objectRef<ApiKeyVerification>("KeyVerification").implement({
  fields: (t) => ({
    valid: t.exposeBoolean("valid", { description: "The secret belongs to a key of this workspace that has not expired." }),
    key: t.field({ type: ApiKey, nullable: true, resolve: (verification) => verification.key }),
    identity: t.prismaField({
      type: "Identity",
      nullable: true,
      resolve: (query, { key }, _args, ctx) =>
        key?.identityId
          ? ctx.services.db.prisma.identity.findUnique({
              ...query,
              where: { workspaceId_id: { workspaceId: key.workspaceId, id: key.identityId } },
            })
          : null,
    }),
  }),
});

userErrorType(KeyNotFoundError, { fields: (t) => ({ keyId: t.exposeID("keyId") }) });
userErrorType(SecretNotKeptError, {
  description: "createKey ran under this clientMutationId longer ago than answers are kept: the key exists, its secret cannot be shown.",
  fields: (t) => ({ key: t.field({ type: ApiKey, resolve: (error) => error.key }) }),
});
