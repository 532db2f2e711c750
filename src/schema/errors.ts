/**
 * An expected business outcome, returned to the client as a typed member of the field's result
 * union (never a masked server error), and stored as the mutation's outcome like a payload.
 * Declare one with `userError(code)`; a stored error is revived by its code, so nothing else about
 * the class (its name included) can break a replay.
 */
export abstract class UserError extends Error {
  abstract readonly code: string;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A UserError class, as the wrapper sees it: its code is readable without an instance. */
// biome-ignore lint/suspicious/noExplicitAny: error classes take whatever their constructors need.
export type UserErrorClass = (new (...args: any[]) => UserError) & { readonly code: string };

/**
 * The base of a domain error with this code, the name clients switch on:
 * `class WalletNotFoundError extends userError("WALLET_NOT_FOUND") { ... }`.
 */
export function userError<const Code extends string>(code: Code) {
  abstract class CodedUserError extends UserError {
    static readonly code: Code = code;
    readonly code: Code = code;
  }
  return CodedUserError;
}

/** Input that is well-typed but breaks a rule of the domain (too long, in the past, ...). */
export class InvalidInputError extends userError("INVALID_INPUT") {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}
