import { builder } from "../../schema/builder.ts";
import { userErrorType } from "../../schema/user-error.type.ts";
import { IdentityAlreadyExistsError, IdentityNotFoundError } from "./identity.errors.ts";

export const Identity = builder.prismaObject("Identity", {
  description: "Someone or something your workspace knows by its own id (externalId).",
  findUnique: (identity) => ({ workspaceId_id: { workspaceId: identity.workspaceId, id: identity.id } }),
  fields: (t) => ({
    id: t.exposeID("id"),
    externalId: t.exposeString("externalId"),
    meta: t.expose("meta", { type: "JSON", nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

userErrorType(IdentityAlreadyExistsError, { fields: (t) => ({ externalId: t.exposeString("externalId") }) });
userErrorType(IdentityNotFoundError, { fields: (t) => ({ identityId: t.exposeID("identityId") }) });
