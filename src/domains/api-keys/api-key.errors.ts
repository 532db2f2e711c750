import { userError } from "../../schema/errors.ts";

export class KeyNotFoundError extends userError("KEY_NOT_FOUND") {
  constructor(readonly keyId: string) {
    super(`No API key ${JSON.stringify(keyId)} in this workspace.`);
  }
}
