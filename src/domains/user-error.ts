/**
 * An expected business outcome, returned to the client as a typed member of the field's result
 * union (never a masked server error), and stored as the mutation's outcome like a payload.
 */
export abstract class UserError extends Error {
  abstract readonly code: string;
}

/** Input that is well-typed but breaks a rule of the domain (too long, in the past, ...). */
export class InvalidInputError extends UserError {
  readonly code = "INVALID_INPUT";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = "InvalidInputError";
  }
}
