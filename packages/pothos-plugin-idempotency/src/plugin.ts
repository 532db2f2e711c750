import { BasePlugin, type SchemaTypes } from "@pothos/core";

/** Registers `builder.idempotentMutationField` and the builder option `idempotency` (see schema-builder.ts). */
export class PothosIdempotencyPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {}
