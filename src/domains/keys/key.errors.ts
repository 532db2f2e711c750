import { UserError } from "../user-error.ts";

export class KeyNotFoundError extends UserError {
  readonly code = "KEY_NOT_FOUND";
  constructor(readonly keyId: string) {
    super(`No API key ${JSON.stringify(keyId)} in this workspace.`);
    this.name = "KeyNotFoundError";
  }
}
