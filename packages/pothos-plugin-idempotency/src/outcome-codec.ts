import { answerClassOf, type ErrorClass } from "./answers.ts";
import type { OutcomeCipher } from "./outcome-cipher.ts";
import { isTypedJson, TypedJson, type ValueClass } from "./typed-json.ts";

export type { ErrorClass } from "./answers.ts";

/**
 * What a stored error says it is: the class's static `code` when it has one (so renaming a class
 * breaks no replay), else its name.
 */
export function errorClassKey(errorClass: ErrorClass): string {
  const code = (errorClass as { code?: unknown }).code;
  return typeof code === "string" ? code : errorClass.name;
}

/** What a mutation ended with: its payload, or the error it answered with. */
export type Outcome = { ok: true; payload: Record<string, unknown> } | { ok: false; error: Error };

/** An answering error as stored: its code says which class it is; its own fields are data. */
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
 * Outcomes are stored as typed JSON, so BigInts, Dates, bytes and registered classes come back as
 * they went in (a replay sees the scalar fields of the payload's objects as they were when it
 * ran), and any JSON a client sent comes back byte for byte, whatever its keys.
 */
export class OutcomeCodec {
  private readonly json: TypedJson;
  /** Reads outcomes an application stored in a format of its own before (typed JSON is told apart by its first bytes). */
  private readonly decodeLegacy?: (text: string) => unknown;

  constructor(
    private readonly cipher: OutcomeCipher | undefined,
    options: { decodeLegacy?: (text: string) => unknown; values?: readonly ValueClass[] } = {},
  ) {
    this.json = new TypedJson(options.values);
    this.decodeLegacy = options.decodeLegacy;
  }

  seal(outcome: Outcome, options: { sensitive: boolean; boundTo: string; errorClasses: readonly ErrorClass[] }): SealedOutcome {
    const stored: Stored = outcome.ok ? { payload: outcome.payload } : { error: storedError(outcome.error, options.errorClasses) };
    return this.sealText(this.json.stringify(stored), options);
  }

  /** Text stored beside the outcome (the input), sealed the same way. */
  sealText(text: string, options: { sensitive: boolean; boundTo: string }): SealedOutcome {
    return options.sensitive ? { text: this.requireCipher().encrypt(text, options.boundTo), encrypted: true } : { text, encrypted: false };
  }

  openText(sealed: SealedOutcome, boundTo: string): string {
    return sealed.encrypted ? this.requireCipher().decrypt(sealed.text, boundTo) : sealed.text;
  }

  open(sealed: SealedOutcome, options: { boundTo: string; errorClasses: readonly ErrorClass[] }): Outcome {
    const text = this.openText(sealed, options.boundTo);
    const stored = (isTypedJson(text) || !this.decodeLegacy ? this.json.parse(text) : this.decodeLegacy(text)) as Stored;
    if (stored.payload) return { ok: true, payload: stored.payload };
    if (stored.error) return { ok: false, error: reviveError(stored.error, options.errorClasses) };
    throw new Error("stored outcome holds neither a payload nor an error");
  }

  private requireCipher(): OutcomeCipher {
    if (!this.cipher)
      throw new Error("a sensitive mutation's outcome is sealed with createIdempotency's encryptionKey, and none was given");
    return this.cipher;
  }
}

function storedError(error: Error, classes: readonly ErrorClass[]): StoredError {
  const errorClass = answerClassOf(error, classes);
  if (!errorClass) throw new Error(`${error.constructor.name} is not one of the mutation's errors`);
  return { code: errorClassKey(errorClass), props: { ...error, message: error.message } };
}

function reviveError(stored: StoredError, classes: readonly ErrorClass[]): Error {
  const code = stored.code ?? stored.props.code;
  const errorClass = classes.find((candidate) => errorClassKey(candidate) === code);
  if (!errorClass) throw new Error(`stored outcome holds an error this mutation no longer returns: ${String(code)}`);
  const error = Object.create(errorClass.prototype) as Error;
  for (const [name, value] of Object.entries(stored.props)) {
    Object.defineProperty(error, name, { value, writable: true, enumerable: name !== "message", configurable: true });
  }
  return error;
}
