import type { FieldMap } from "@pothos/core";
import { builder, type Types } from "./builder.ts";
import { InvalidInputError, type UserError, type UserErrorClass } from "./errors.ts";

export const UserErrorInterface = builder.interfaceRef<UserError>("UserError").implement({
  description: "An expected business outcome: the mutation ran and this is its answer.",
  fields: (t) => ({
    message: t.exposeString("message"),
    code: t.exposeString("code"),
  }),
});

/** Registers a UserError class as a GraphQL object type named after it, so resolvers can throw it. */
export function userErrorType<T extends UserError>(
  errorClass: UserErrorClass & { prototype: T },
  options: { description?: string; fields?: (t: PothosSchemaTypes.ObjectFieldBuilder<Types, T>) => FieldMap } = {},
): void {
  builder.objectType(errorClass as unknown as new () => UserError, {
    name: errorClass.name,
    description: options.description,
    interfaces: [UserErrorInterface],
    isTypeOf: (value) => value instanceof errorClass,
    fields: (options.fields ?? (() => ({}))) as (t: PothosSchemaTypes.ObjectFieldBuilder<Types, UserError>) => FieldMap,
  });
}

userErrorType(InvalidInputError, {
  description: "The input broke a rule of the domain; `field` names the input field.",
  fields: (t) => ({ field: t.exposeString("field") }),
});
