import type { IdempotentMutationContext, OutputFieldTypes, PayloadShape } from "@onceql/pothos-plugin-idempotency";
import type { InputFieldMap, InputShapeFromFields } from "@pothos/core";
import type { Services } from "../context.ts";
import type { TransactionClient } from "../db/transaction.ts";
import { builder, type Types } from "../schema/builder.ts";
import type { UserErrorClass } from "../schema/errors.ts";
import { malformedRowIdError } from "../schema/row-ids.ts";

/**
 * What a domain's mutation gets: the attempt's transaction, the ids only its key gives, the
 * workspace and the app's services, never the clientMutationId (see IdempotentMutationContext).
 */
export interface MutationScope extends Omit<IdempotentMutationContext<TransactionClient>, "scope"> {
  workspaceId: string;
  services: Services;
}

export interface IdempotentMutationOptions<Fields extends InputFieldMap, Payload extends OutputFieldTypes<Types>> {
  description?: string;
  /** The input's fields; `clientMutationId: String!` is added. */
  input: (t: PothosSchemaTypes.InputFieldBuilder<Types, "InputObject">) => Fields;
  /** The payload's fields and their types; `clientMutationId` is added. */
  payload: Payload;
  /** Expected outcomes, as UserError classes; they become members of the result union. */
  errors?: UserErrorClass[];
  /** The payload holds a secret: its stored outcome is encrypted at rest. */
  sensitive?: boolean;
  /**
   * Every effect is a statement of the transaction (nothing leaves the database): the mutation may
   * start before its key's claim answers, one round trip fewer (see the plugin's option).
   */
  onlyDatabaseEffects?: boolean;
  /** The business rule: runs at most once per key, in the transaction that stores its outcome. */
  run: (input: InputShapeFromFields<Fields>, scope: MutationScope) => Promise<PayloadShape<Types, Payload>>;
}

/**
 * A domain's exactly-once mutation, through the plugin's `idempotentMutationField`: what this app
 * adds is its own, the workspace and services in the scope, and a malformed row id answered as an
 * unknown one (a stored answer like any other).
 */
export function defineIdempotentMutation<Fields extends InputFieldMap, const Payload extends OutputFieldTypes<Types>>(
  name: string,
  options: IdempotentMutationOptions<Fields, Payload>,
): void {
  builder.idempotentMutationField(name, {
    description: options.description,
    inputFields: options.input,
    outputFields: options.payload,
    errors: { types: options.errors ?? [] },
    sensitive: options.sensitive,
    onlyDatabaseEffects: options.onlyDatabaseEffects,
    run: async (input, { scope, ...mutation }, ctx, info) => {
      const malformedId = malformedRowIdError(info, input as Record<string, unknown>);
      if (malformedId) throw malformedId;
      return options.run(input, { ...mutation, workspaceId: ctx.workspace.id, services: ctx.services });
    },
  });
}
