import { UserError } from "../user-error.ts";

export class IdentityAlreadyExistsError extends UserError {
  readonly code = "IDENTITY_EXISTS";
  constructor(readonly externalId: string) {
    super(`An identity with externalId ${JSON.stringify(externalId)} already exists in this workspace.`);
    this.name = "IdentityAlreadyExistsError";
  }
}

export class IdentityNotFoundError extends UserError {
  readonly code = "IDENTITY_NOT_FOUND";
  constructor(readonly identityId: string) {
    super(`No identity ${JSON.stringify(identityId)} in this workspace.`);
    this.name = "IdentityNotFoundError";
  }
}
