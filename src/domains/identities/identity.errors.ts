import { userError } from "../../schema/errors.ts";

export class IdentityAlreadyExistsError extends userError("IDENTITY_EXISTS") {
  constructor(readonly externalId: string) {
    super(`An identity with externalId ${JSON.stringify(externalId)} already exists in this workspace.`);
  }
}

export class IdentityNotFoundError extends userError("IDENTITY_NOT_FOUND") {
  constructor(readonly identityId: string) {
    super(`No identity ${JSON.stringify(identityId)} in this workspace.`);
  }
}
