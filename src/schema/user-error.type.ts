import type { FieldMap } from "@pothos/core";
import { InvalidInputError, type UserError } from "../domains/user-error.ts";
import { builder, type Types } from "./builder.ts";

export const UserErrorInterface = builder.interfaceRef<UserError>("UserError").implement({
  description: "An expected business outcome: the mutation ran and this is its answer.",
  fields: (t) => ({
    message: t.exposeString("message"),
    code: t.exposeString("code"),
  }),
});

// biome-ignore lint: Pothos keys error types by their constructor, whatever its parameters.
type ErrorClass<T extends UserError> = new (...args: any[]) => T;

/** Registers a UserError subclass as a GraphQL object type, so resolvers can throw it. */
export function userErrorType<T extends UserError>(
  errorClass: ErrorClass<T>,
  options: { name: string; description?: string; fields?: (t: PothosSchemaTypes.ObjectFieldBuilder<Types, T>) => FieldMap },
): void {
  builder.objectType(errorClass as ErrorClass<UserError>, {
    name: options.name,
    description: options.description,
    interfaces: [UserErrorInterface],
    isTypeOf: (value) => value instanceof errorClass,
    fields: (options.fields ?? (() => ({}))) as (t: PothosSchemaTypes.ObjectFieldBuilder<Types, UserError>) => FieldMap,
  });
}

userErrorType(InvalidInputError, {
  name: "InvalidInputError",
  description: "The input broke a rule of the domain; `field` names the input field.",
  fields: (t) => ({ field: t.exposeString("field") }),
});
