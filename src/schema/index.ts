import { builder } from "./builder.ts";
import "./scalars.ts";
import "./user-error.type.ts";
import "../idempotency/record.type.ts";
import "../domains/workspaces/workspace.type.ts";
import "../domains/identities/identity.type.ts";
import "../domains/identities/identity.queries.ts";
import "../domains/identities/identity.mutations.ts";
import "../domains/keys/key.type.ts";
import "../domains/keys/key.queries.ts";
import "../domains/keys/key.mutations.ts";

export const schema = builder.toSchema({ sortSchema: true });
