import superjson from "superjson";
import type { UserError, UserErrorClass } from "../schema/errors.ts";
import type { OutcomeCipher } from "./outcome-cipher.ts";
import { isTypedJson, parse, stringify } from "./typed-json.ts";

/** What a mutation ended with: its payload, or the UserError it answered with. */
export type Outcome = { ok: true; payload: Record<string, unknown> } | { ok: false; error: UserError };

/** A UserError as stored: its code says which class it is; its own fields are data. */
interface StoredError {
  code: string;
  props: Record<string, unknown>;
}

interface Stored {
  payload?: Record<string, unknown>;
  error?: StoredError;
}

export interface SealedOutcome {
  text: string;
  encrypted: boolean;
}

/**
 * Outcomes are stored as typed JSON, so Dates and BigInts come back as they went in (a replay
 * sees the scalar fields of the payload's objects as they were when it ran), and any JSON a
 * client sent comes back byte for byte, whatever its keys.
 */
export class OutcomeCodec {
  constructor(private readonly cipher: OutcomeCipher) {}

  seal(outcome: Outcome, options: { sensitive: boolean; boundTo: string }): SealedOutcome {
    const stored: Stored = outcome.ok ? { payload: outcome.payload } : { error: storedError(outcome.error) };
    return this.sealText(stringify(stored), options);
  }

  /** Text stored beside the outcome (the input), sealed the same way. */
  sealText(text: string, options: { sensitive: boolean; boundTo: string }): SealedOutcome {
    return options.sensitive ? { text: this.cipher.encrypt(text, options.boundTo), encrypted: true } : { text, encrypted: false };
  }

  openText(sealed: SealedOutcome, boundTo: string): string {
    return sealed.encrypted ? this.cipher.decrypt(sealed.text, boundTo) : sealed.text;
  }

  open(sealed: SealedOutcome, options: { boundTo: string; errorClasses: readonly UserErrorClass[] }): Outcome {
    const text = this.openText(sealed, options.boundTo);
    // Outcomes stored before typed JSON are superjson, and still replay until they expire.
    const stored = (isTypedJson(text) ? parse(text) : superjson.parse(text)) as Stored;
    if (stored.payload) return { ok: true, payload: stored.payload };
    if (stored.error) return { ok: false, error: reviveError(stored.error, options.errorClasses) };
    throw new Error("stored outcome holds neither a payload nor an error");
  }
}

function storedError(error: UserError): StoredError {
  return { code: error.code, props: { ...error, message: error.message } };
}

function reviveError(stored: StoredError, classes: readonly UserErrorClass[]): UserError {
  const code = stored.code ?? stored.props.code;
  const errorClass = classes.find((candidate) => candidate.code === code);
  if (!errorClass) throw new Error(`stored outcome holds an error this mutation no longer returns: ${String(code)}`);
  const error = Object.create(errorClass.prototype) as UserError;
  for (const [name, value] of Object.entries(stored.props)) {
    Object.defineProperty(error, name, { value, writable: true, enumerable: name !== "message", configurable: true });
  }
  return error;
}
