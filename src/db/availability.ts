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
  // Prisma: cannot reach, timed out, closed the connection, no connection in the pool in time
  "P1001",
  "P1002",
  "P1008",
  "P1017",
  "P2024",
]);

const UNAVAILABLE_KINDS = new Set([
  "DatabaseNotReachable",
  "ConnectionClosed",
  "SocketTimeout",
  "TooManyConnections",
  "DatabaseDoesNotExist",
]);

const UNAVAILABLE_MESSAGES = [
  /Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /terminating connection/i,
  /Client has encountered a connection error/i,
  /Connection ended unexpectedly/i,
];

/**
 * Whether the database answered but could not do the work now: a lock waited for past
 * lock_timeout, a statement past statement_timeout, no disk or memory left. Nothing committed;
 * the same request may be sent again later. (A key's own lock wait is told apart by the wrapper.)
 */
export function isDatabaseBusy(error: unknown): boolean {
  for (const candidate of causesOf(error)) {
    if (typeof candidate.code === "string" && BUSY_CODES.has(candidate.code)) return true;
    if (typeof candidate.originalCode === "string" && BUSY_CODES.has(candidate.originalCode)) return true;
  }
  return false;
}

const BUSY_CODES = new Set([
  // lock_not_available (lock_timeout), query_canceled (statement_timeout)
  "55P03",
  "57014",
  // insufficient resources: disk full, out of memory
  "53000",
  "53100",
  "53200",
]);
