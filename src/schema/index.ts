import { builder } from "./builder.ts";
import { guardRowIds } from "./row-ids.ts";
import "./scalars.ts";
import "./user-error.type.ts";
import "../idempotency/record.type.ts";
import "../domains/workspaces/workspace.type.ts";
import "../domains/identities/identity.type.ts";
import "../domains/identities/identity.queries.ts";
import "../domains/identities/identity.mutations.ts";
import "../domains/api-keys/api-key.type.ts";
import "../domains/api-keys/api-key.queries.ts";
import "../domains/api-keys/api-key.mutations.ts";
import "../domains/cards/card.type.ts";
import "../domains/cards/card.queries.ts";
import "../domains/cards/card.mutations.ts";

export const schema = guardRowIds(builder.toSchema({ sortSchema: true }));
