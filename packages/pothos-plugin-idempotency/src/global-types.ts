import type { InputFieldMap, InputObjectRef, ObjectRef, SchemaTypes } from "@pothos/core";
import type { PothosIdempotencyPlugin } from "./plugin.ts";
import type { IdempotencyPluginOptions, IdempotentMutationFieldOptions, OutputFieldTypes } from "./types.ts";

declare global {
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      idempotency: PothosIdempotencyPlugin<Types>;
    }

    export interface SchemaBuilderOptions<Types extends SchemaTypes> {
      idempotency?: IdempotencyPluginOptions<Types>;
    }

    export interface UserSchemaTypes {
      /** `Tx`: what a mutation's `run` gets as `tx` (the driver's transaction client). */
      Idempotency: { Tx: unknown };
    }

    export interface ExtendDefaultTypes<PartialTypes extends Partial<UserSchemaTypes>> {
      Idempotency: undefined extends PartialTypes["Idempotency"] ? { Tx: unknown } : PartialTypes["Idempotency"] & { Tx: unknown };
    }

    export interface SchemaBuilder<Types extends SchemaTypes> {
      /**
       * An exactly-once mutation: `name(input: NameInput!): NameResult`, NameInput with
       * `clientMutationId: String!`, NameResult the union of NamePayload and the mutation's errors.
       * Its `run` happens at most once per key, in the transaction that stores its outcome.
       */
      idempotentMutationField: <Fields extends InputFieldMap, const Payload extends OutputFieldTypes<Types>>(
        name: string,
        options: IdempotentMutationFieldOptions<Types, Fields, Payload>,
      ) => {
        inputType: InputObjectRef<Types, unknown>;
        payloadType: ObjectRef<Types, Record<string, unknown>>;
      };
    }
  }
}
