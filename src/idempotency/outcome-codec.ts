import superjson from "superjson";
import type { UserError } from "../domains/user-error.ts";
import type { OutcomeCipher } from "./outcome-cipher.ts";

/** What a mutation ended with: its payload, or the UserError it answered with. */
export type Outcome = { ok: true; payload: Record<string, unknown> } | { ok: false; error: UserError };

// biome-ignore lint: the classes are told apart by name and prototype, whatever their parameters.
export type UserErrorClass = new (...args: any[]) => UserError;

interface StoredError {
  name: string;
  props: Record<string, unknown>;
}

export interface SealedOutcome {
  text: string;
  encrypted: boolean;
}

/**
 * Outcomes are stored as superjson text, so Dates and BigInts come back as they went in: a
 * replay sees the scalar fields of the payload's objects as they were when it ran.
 */
export class OutcomeCodec {
  constructor(private readonly cipher: OutcomeCipher) {}

  seal(outcome: Outcome, options: { sensitive: boolean; boundTo: string }): SealedOutcome {
    const text = superjson.stringify(outcome.ok ? { payload: outcome.payload } : { error: storedError(outcome.error) });
    return options.sensitive ? { text: this.cipher.encrypt(text, options.boundTo), encrypted: true } : { text, encrypted: false };
  }

  open(sealed: SealedOutcome, options: { boundTo: string; errorClasses: readonly UserErrorClass[] }): Outcome {
    const text = sealed.encrypted ? this.cipher.decrypt(sealed.text, options.boundTo) : sealed.text;
    const stored = superjson.parse<{ payload?: Record<string, unknown>; error?: StoredError }>(text);
    if (stored.payload) return { ok: true, payload: stored.payload };
    if (stored.error) return { ok: false, error: reviveError(stored.error, options.errorClasses) };
    throw new Error("stored outcome holds neither a payload nor an error");
  }
}

function storedError(error: UserError): StoredError {
  return { name: error.name, props: { ...error, message: error.message } };
}

function reviveError(stored: StoredError, classes: readonly UserErrorClass[]): UserError {
  const errorClass = classes.find((candidate) => candidate.name === stored.name);
  if (!errorClass) throw new Error(`stored outcome names an error this mutation no longer returns: ${stored.name}`);
  return Object.assign(Object.create(errorClass.prototype) as UserError, stored.props);
}
