/** What an error may say of itself, at any depth of its causes. */
interface ErrorFields {
  code?: unknown;
  originalCode?: unknown;
  kind?: unknown;
  message?: unknown;
  name?: unknown;
  cause?: unknown;
  meta?: { driverAdapterError?: { cause?: unknown } };
}

/** The error and the causes under it, as Prisma and the drivers nest them (at most 6 deep). */
function* causesOf(error: unknown): Generator<ErrorFields> {
  for (let current = error, depth = 0; current && depth < 6; depth++) {
    const candidate = current as ErrorFields;
    yield candidate;
    current = candidate.meta?.driverAdapterError?.cause ?? candidate.cause;
  }
}

/**
 * Whether an error means the database could not be reached or dropped the connection, as
 * opposed to a bug or a constraint: the request may simply be sent again.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (const candidate of causesOf(error)) {
    if (typeof candidate.code === "string" && UNAVAILABLE_CODES.has(candidate.code)) return true;
    if (typeof candidate.kind === "string" && UNAVAILABLE_KINDS.has(candidate.kind)) return true;
    if (candidate.name === "PrismaClientInitializationError") return true;
    if (typeof candidate.message === "string" && UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(candidate.message as string)))
      return true;
  }
  return false;
}

const UNAVAILABLE_CODES = new Set([
  // Node sockets
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENOTFOUND",
  // PostgreSQL: connection exceptions, shutdown, terminated by an administrator, starting up
  "08000",
  "08001",
  "08003",
  "08004",
  "08006",
  "57P01",
  "57P02",
  "57P03",
  // Prisma: cannot reach, timed out, closed the connection
  "P1001",
  "P1002",
  "P1008",
  "P1017",
]);

const UNAVAILABLE_KINDS = new Set([
  "DatabaseNotReachable",
  "ConnectionClosed",
  "SocketTimeout",
  "TooManyConnections",
  "DatabaseDoesNotExist",
]);

const UNAVAILABLE_MESSAGES = [
  // pg-pool's own connect timeout says "Connection terminated due to connection timeout".
  /Connection terminated/i,
  /terminating connection/i,
  /Client has encountered a connection error/i,
  /Connection ended unexpectedly/i,
];

/**
 * Whether the database answered but could not do the work now: a lock waited for past
 * lock_timeout, a statement past statement_timeout, no disk or memory left, no connection of the
 * pool free in time. Nothing committed;
 * the same request may be sent again later. (A key's own lock wait is told apart by the wrapper.)
 */
export function isDatabaseBusy(error: unknown): boolean {
  for (const candidate of causesOf(error)) {
    if (typeof candidate.code === "string" && BUSY_CODES.has(candidate.code)) return true;
    if (typeof candidate.originalCode === "string" && BUSY_CODES.has(candidate.originalCode)) return true;
    if (typeof candidate.message === "string" && BUSY_MESSAGES.some((pattern) => pattern.test(candidate.message as string))) return true;
  }
  return false;
}

/**
 * Every connection of the pool was in use for as long as a request may wait for one: the
 * database is fine, this server's share of it is taken (node-postgres' pool; Prisma's own).
 */
const BUSY_MESSAGES = [/timeout exceeded when trying to connect/i, /Timed out fetching a new connection from the connection pool/i];

const BUSY_CODES = new Set([
  // lock_not_available (lock_timeout), query_canceled (statement_timeout)
  "55P03",
  "57014",
  // insufficient resources: disk full, out of memory
  "53000",
  "53100",
  "53200",
  // Prisma: no connection in the pool in time
  "P2024",
]);

/**
 * SQLSTATEs after which the whole transaction may simply run again: a deadlock, a serialization
 * failure, or a connection whose prepared statements were dropped or outdated behind its back (a
 * session reset, a table changed): that connection is closed, and the next attempt takes another.
 */
const RETRYABLE = new Set(["40001", "40P01", "26000"]);

/** The database aborted the transaction for a reason that running it again resolves. */
export function isRetryableConflict(error: unknown): boolean {
  const state = sqlState(error);
  if (state === "0A000") return /cached plan must not change result type/.test(String((error as Error)?.message));
  return (state !== undefined && RETRYABLE.has(state)) || (error as { code?: string })?.code === "P2034";
}

/** The SQLSTATE of a database error: node-postgres' and PGlite's own, or under a Prisma driver-adapter error. */
export function sqlState(error: unknown): string | undefined {
  const candidate = error as {
    code?: unknown;
    meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } };
    cause?: { originalCode?: unknown };
  };
  const code = candidate?.meta?.driverAdapterError?.cause?.originalCode ?? candidate?.cause?.originalCode;
  if (typeof code === "string") return code;
  return typeof candidate?.code === "string" && /^[0-9A-Z]{5}$/.test(candidate.code) ? candidate.code : undefined;
}
