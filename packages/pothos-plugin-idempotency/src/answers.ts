import { sortClasses } from "@pothos/core";
import { GraphQLError } from "graphql";

/** An error class a mutation answers with (`errors.types`): its instances are stored and replayed. */
// biome-ignore lint/suspicious/noExplicitAny: error classes take whatever their constructors need.
export type ErrorClass = abstract new (...args: any[]) => Error;

/**
 * Which thrown errors are a mutation's answers (stored and replayed for the key's TTL) and which
 * are failures (rolled back, the key freed, `outcome: NOT_STORED`).
 *
 * An answer is an error of a domain class the adopter declared: in the field's `errors.types`, or
 * in the builder's `errors.defaultTypes`. The runtime's and the drivers' own classes are never
 * domain classes, even when listed: `defaultTypes: [Error]` (what Pothos' errors plugin suggests)
 * would otherwise store a bug, a timeout, a failed fetch or a database error as the key's answer,
 * and every retry would replay it until the TTL ends. For the same reason an error whose own class
 * is one of them is never an answer, even when a broader class that is listed matches it.
 */

/** The runtime's own error classes, by identity. */
const RUNTIME_CLASSES: ReadonlySet<unknown> = new Set(
  [
    Error,
    TypeError,
    RangeError,
    SyntaxError,
    ReferenceError,
    EvalError,
    URIError,
    AggregateError,
    (globalThis as { SuppressedError?: unknown }).SuppressedError,
    globalThis.DOMException,
    GraphQLError,
  ].filter(Boolean),
);

/**
 * Prisma's own classes (its client's, whatever its version or copy, and its driver adapters'),
 * told by name: Prisma is an optional peer, never imported here, and the names are distinctive.
 */
const PRISMA_NAME = /^(PrismaClient\w*Error|DriverAdapterError)$/;

/** A class of the runtime's, a driver's or a library's own: never a domain error, whatever lists it. */
export function isForeignErrorClass(errorClass: unknown): boolean {
  if (typeof errorClass !== "function") return false;
  return RUNTIME_CLASSES.has(errorClass) || PRISMA_NAME.test(errorClass.name);
}

/**
 * An error whose own class is the runtime's, a driver's or a library's: a failure, whichever
 * listed class it is also an instance of. Those whose classes are not exported (or are minified)
 * are told by the fields they set, so an adopter's own class that merely shares a generic name
 * (a `TimeoutError` of the domain's) stays theirs.
 */
export function isForeignError(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return true;
  if (isForeignErrorClass((error as { constructor?: unknown }).constructor)) return true;
  if (typeof DOMException !== "undefined" && error instanceof DOMException) return true;
  const { name, code, severity, errno, syscall } = error as Record<string, unknown>;
  if (typeof name === "string" && PRISMA_NAME.test(name)) return true;
  // A PostgreSQL error as node-postgres and PGlite make it (their DatabaseError says `name: "error"`).
  if (name === "error" && typeof severity === "string" && typeof code === "string") return true;
  // Node's system call errors (a socket reset, a refused connection), aborts and assertions.
  if (typeof errno === "number" && typeof syscall === "string") return true;
  if ((name === "AbortError" && code === "ABORT_ERR") || (name === "AssertionError" && code === "ERR_ASSERTION")) return true;
  // undici's (behind fetch): a connect, headers or body timeout, a socket closed.
  return typeof code === "string" && code.startsWith("UND_ERR_");
}

/**
 * The classes whose instances a mutation answers with: declared ones, less the foreign ones
 * `defaultTypes` may hold; subclasses first, as @pothos/plugin-errors orders them to pick the
 * union member, so an error is stored (and revived) as the class it is shown as.
 */
export function answeringClasses(declared: readonly ErrorClass[], defaults: readonly ErrorClass[]): ErrorClass[] {
  const own = defaults.filter((errorClass) => !declared.includes(errorClass) && !isForeignErrorClass(errorClass));
  // Pothos' types want a concrete class; abstract ones sort the same way.
  return sortClasses([...declared, ...own] as unknown as (new () => Error)[]) as unknown as ErrorClass[];
}

/**
 * The class `error` answers as, among a mutation's answering classes (see answeringClasses): its
 * own when listed, else the first listed class it is an instance of (as @pothos/plugin-errors
 * picks the union member); undefined for a failure, and always for a foreign error (node-postgres'
 * DatabaseError, say, even when an adopter lists that very class).
 */
export function answerClassOf(error: unknown, classes: readonly ErrorClass[]): ErrorClass | undefined {
  if (!(error instanceof Error) || isForeignError(error)) return undefined;
  return classes.find((candidate) => error.constructor === candidate) ?? classes.find((candidate) => error instanceof candidate);
}

/**
 * Marks a failure of an idempotent field, thrown to the errors plugin: with a broad class among
 * `defaultTypes` that plugin would show it as data, which a client reads as the key's answer (and
 * does not retry); PothosIdempotencyPlugin's resolveType throws it again instead, so it is a field
 * error carrying `extensions.outcome`, as every failure without such a class is.
 */
const FAILURE = Symbol.for("onceql.idempotency.failure");

export function markedFailure(error: unknown): unknown {
  if (typeof error !== "object" || error === null) return error;
  try {
    Object.defineProperty(error, FAILURE, { value: error, configurable: true });
    return error;
  } catch {
    // A frozen error cannot carry the mark: a wrapper of its own can.
    const wrapper = new Error(error instanceof Error ? error.message : String(error), { cause: error });
    Object.defineProperty(wrapper, FAILURE, { value: wrapper, configurable: true });
    return wrapper;
  }
}

/** The failure an errors-plugin wrapper (a proxy of the error) stands for, if it stands for one. */
export function failureBehind(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return undefined;
  return (value as { [FAILURE]?: unknown })[FAILURE];
}
