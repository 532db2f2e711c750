import { builder } from "../../schema/builder.ts";
import { userErrorType } from "../../schema/user-error.type.ts";
import { Identity } from "../identities/identity.type.ts";
import { KeyNotFoundError } from "./key.errors.ts";
import type { KeyVerification as Verification } from "./key.service.ts";

export const ApiKey = builder.prismaObject("ApiKey", {
  description: "An API key. Its secret is shown once, in createKey's payload, and stored only as a hash.",
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name", { nullable: true }),
    meta: t.expose("meta", { type: "JSON", nullable: true }),
    expiresAt: t.expose("expiresAt", { type: "DateTime", nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    updatedAt: t.expose("updatedAt", { type: "DateTime" }),
    identity: t.field({
      type: Identity,
      nullable: true,
      resolve: (key, _args, ctx) => (key.identityId ? ctx.loaders.identity.load(key.identityId) : null),
    }),
  }),
});

export const KeyVerification = builder.objectRef<Verification>("KeyVerification").implement({
  fields: (t) => ({
    valid: t.exposeBoolean("valid", { description: "The secret belongs to a key of this workspace that has not expired." }),
    key: t.field({ type: ApiKey, nullable: true, resolve: (verification) => verification.key }),
    identity: t.field({
      type: Identity,
      nullable: true,
      resolve: ({ key }, _args, ctx) => (key?.identityId ? ctx.loaders.identity.load(key.identityId) : null),
    }),
  }),
});

userErrorType(KeyNotFoundError, {
  name: "KeyNotFoundError",
  fields: (t) => ({ keyId: t.exposeID("keyId") }),
});
