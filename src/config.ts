import path from "node:path";
import type { ConcurrencyOptions } from "@onceql/pothos-plugin-idempotency";
import ms from "ms";
import { isLoopbackHost } from "./http/loopback.ts";

/**
 * What every PostgreSQL session of the server is told: a duplicate waits for the attempt holding
 * its key at most ONCEQL_IDEMPOTENCY_WAIT_MS (then IDEMPOTENCY_KEY_IN_USE); a statement runs at
 * most ONCEQL_IDEMPOTENCY_LEASE_MS; and a session whose client went silent inside a transaction
 * (a server cut off by the network, its connections never closed) is ended by PostgreSQL after a
 * third of the lease, 10 s by default (longer than one call to the card issuer), which frees the
 * keys it held.
 */
export function sessionSettings(config: Config) {
  return {
    lockTimeoutMs: config.idempotencyWaitMs,
    statementTimeoutMs: config.idempotencyLeaseMs,
    idleInTransactionTimeoutMs: Math.max(Math.round(config.idempotencyLeaseMs / 3), config.issuerTimeoutMs + 2_000),
  };
}

/**
 * How many attempts may hold connections of a pool of `poolSize` at once (see ConcurrencyOptions):
 * `dbReadReserve` connections are left to reads, authentication and the rest whatever the
 * attempts do; one workspace gets all but two of what attempts may hold (at least half), and the
 * attempts that call the card issuer half (they hold their connection while it answers, as
 * createCard must: the identity's row lock keeps concurrent creations to one card). Undefined on PGlite, which has no pool: its one
 * session serves each transaction in turn.
 */
export function attemptLimits(config: AttemptLimitSettings, poolSize: number | undefined): ConcurrencyOptions | undefined {
  if (poolSize === undefined) return undefined;
  const reserve = Math.min(config.dbReadReserve ?? defaultReadReserve(poolSize), poolSize - 1);
  const total = poolSize - reserve;
  const half = Math.ceil(total / 2);
  return {
    total,
    // All but two: one workspace alone keeps the server's throughput (with half, a single tenant's
    // first executions fell from 0.52 to 0.45 of the path without the wrapper: npm run bench
    // --phases identity, one run), and two attempts always remain for the others.
    perScope: Math.min(config.attemptsPerWorkspace ?? Math.max(half, total - 2), total),
    outside: Math.min(config.outsideAttempts ?? half, total),
    queueMs: config.attemptQueueMs,
  };
}

type AttemptLimitSettings = Pick<Config, "dbReadReserve" | "attemptsPerWorkspace" | "outsideAttempts" | "attemptQueueMs">;

/** A fifth of the pool, at least one connection when there are two. */
function defaultReadReserve(poolSize: number): number {
  return poolSize < 2 ? 0 : Math.min(Math.max(1, Math.round(poolSize / 5)), poolSize - 1);
}

/** Everything the server reads from its environment, parsed once at start. */
export interface Config {
  port: number;
  host: string;
  /** Unset: the embedded PGlite database in `dataDir`. */
  databaseUrl: string | undefined;
  /**
   * What DATABASE_URL reaches: PostgreSQL itself or a pooler in session mode (`session`), or a
   * pooler in transaction mode (`transaction`), where nothing may outlive a transaction.
   */
  pooler: "session" | "transaction";
  /** PostgreSQL itself, past the pooler: for migrations (a session-level lock) and the CLI. */
  directDatabaseUrl: string | undefined;
  /** Connections the server's pool opens to DATABASE_URL (one attempt holds one, issuer calls included). */
  dbPoolSize: number;
  /** Connections of the pool attempts never take (ONCEQL_DB_READ_RESERVE); unset: a fifth of it. */
  dbReadReserve: number | undefined;
  /** Attempts of one workspace at once (ONCEQL_ATTEMPTS_PER_WORKSPACE); unset: all but two of what attempts may hold (at least half). */
  attemptsPerWorkspace: number | undefined;
  /** Attempts calling the card issuer at once (ONCEQL_OUTSIDE_ATTEMPTS); unset: half of what attempts may hold. */
  outsideAttempts: number | undefined;
  /** How long an attempt waits for its turn before DATABASE_BUSY (ONCEQL_ATTEMPT_QUEUE_MS). */
  attemptQueueMs: number;
  dataDir: string;
  idempotencyTtlMs: number;
  idempotencyWaitMs: number;
  /** The longest one attempt at a mutation may run (and any one statement); past it, it is rolled back. */
  idempotencyLeaseMs: number;
  /**
   * 32 bytes each: the first seals stored outcomes that hold secrets, every one opens what it
   * sealed (ONCEQL_ENCRYPTION_KEYS, or the one ONCEQL_ENCRYPTION_KEY). Empty: a key generated and
   * kept in `dataDir`.
   */
  encryptionKeys: Buffer[];
  /** Unset: `startServer` starts the issuer simulator in-process and fills this in. */
  issuerUrl: string | undefined;
  /** Each call to the issuer gives up after this long; a create may make two, inside a key's lease. */
  issuerTimeoutMs: number;
  logLevel: string;
  /** Requests per second per workspace, per server; 0: no limit. */
  rateLimit: number;
  /** Failed authentications per client address and minute, per server, before 429; 0: no limit. */
  authFailureLimit: number;
  /** Proxies in front of the server that append to X-Forwarded-For: the client is the address before them. */
  trustedProxyHops: number;
  /** The only origins a browser may call from (as browsers send them); empty: none. */
  corsOrigins: string[];
  /** Unset: `/metrics` answers without one. */
  metricsToken: string | undefined;
  /** How long in-flight requests may still run after SIGTERM before their connections are closed. */
  shutdownTimeoutMs: number;
  /** `GET /graphql` opens GraphiQL in a browser (ONCEQL_GRAPHIQL; on by default on loopback only). */
  graphiql: boolean;
  /** `__schema` and `__type` are answered (ONCEQL_INTROSPECTION; on by default on loopback only). */
  introspection: boolean;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = "ConfigError";
  }
}

/** The same settings as the environment variables, for `createServer(options)`. */
export interface ConfigOptions {
  port?: number;
  host?: string;
  databaseUrl?: string;
  pooler?: "session" | "transaction";
  directDatabaseUrl?: string;
  dbPoolSize?: number;
  dbReadReserve?: number;
  attemptsPerWorkspace?: number;
  outsideAttempts?: number;
  attemptQueueMs?: number;
  dataDir?: string;
  /** A duration such as "24h", or milliseconds. */
  idempotencyTtl?: string | number;
  idempotencyWaitMs?: number;
  idempotencyLeaseMs?: number;
  /** 32 bytes, or 64 hex digits / base64. */
  encryptionKey?: Buffer | string;
  /** The current key first, older ones after (each 32 bytes, as hex or base64). */
  encryptionKeys?: (Buffer | string)[];
  issuerUrl?: string;
  issuerTimeoutMs?: number;
  logLevel?: string;
  rateLimit?: number;
  authFailureLimit?: number;
  trustedProxyHops?: number;
  /** Origins such as "https://app.example"; a comma-separated string is read as the variable is. */
  corsOrigins?: string[] | string;
  metricsToken?: string;
  shutdownTimeoutMs?: number;
  /** true or "on", false or "off"; unset: on when `host` is a loopback name. */
  graphiql?: boolean | "on" | "off";
  introspection?: boolean | "on" | "off";
}

const OPTION_VARIABLES: Record<keyof ConfigOptions, string> = {
  port: "PORT",
  host: "HOST",
  databaseUrl: "DATABASE_URL",
  pooler: "ONCEQL_POOLER",
  directDatabaseUrl: "ONCEQL_DIRECT_DATABASE_URL",
  dbPoolSize: "ONCEQL_DB_POOL_SIZE",
  dbReadReserve: "ONCEQL_DB_READ_RESERVE",
  attemptsPerWorkspace: "ONCEQL_ATTEMPTS_PER_WORKSPACE",
  outsideAttempts: "ONCEQL_OUTSIDE_ATTEMPTS",
  attemptQueueMs: "ONCEQL_ATTEMPT_QUEUE_MS",
  dataDir: "ONCEQL_DATA_DIR",
  idempotencyTtl: "ONCEQL_IDEMPOTENCY_TTL",
  idempotencyWaitMs: "ONCEQL_IDEMPOTENCY_WAIT_MS",
  idempotencyLeaseMs: "ONCEQL_IDEMPOTENCY_LEASE_MS",
  encryptionKey: "ONCEQL_ENCRYPTION_KEY",
  encryptionKeys: "ONCEQL_ENCRYPTION_KEYS",
  issuerUrl: "ONCEQL_ISSUER_URL",
  issuerTimeoutMs: "ONCEQL_ISSUER_TIMEOUT_MS",
  logLevel: "LOG_LEVEL",
  rateLimit: "ONCEQL_RATE_LIMIT",
  authFailureLimit: "ONCEQL_AUTH_FAILURE_LIMIT",
  trustedProxyHops: "ONCEQL_TRUSTED_PROXY_HOPS",
  corsOrigins: "ONCEQL_CORS_ORIGINS",
  metricsToken: "ONCEQL_METRICS_TOKEN",
  shutdownTimeoutMs: "ONCEQL_SHUTDOWN_TIMEOUT_MS",
  graphiql: "ONCEQL_GRAPHIQL",
  introspection: "ONCEQL_INTROSPECTION",
};

/** Options checked exactly as their environment variables are; the process environment is not read. */
export function configFromOptions(options: ConfigOptions): Config {
  const env: Env = {};
  for (const [option, variable] of Object.entries(OPTION_VARIABLES) as [keyof ConfigOptions, string][]) {
    const value = options[option];
    if (value === undefined) continue;
    if (Buffer.isBuffer(value)) env[variable] = value.toString("hex");
    else if (Array.isArray(value)) env[variable] = value.map((item) => (Buffer.isBuffer(item) ? item.toString("hex") : item)).join(",");
    else if (option === "idempotencyTtl" && typeof value === "number") env[variable] = `${value}ms`;
    else if (typeof value === "boolean") env[variable] = value ? "on" : "off";
    else env[variable] = String(value);
  }
  try {
    return loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const option = Object.entries(OPTION_VARIABLES).find(([, variable]) => variable === error.variable)?.[0];
    throw new ConfigError(`${option} (${error.variable})`, error.message.slice(error.variable.length + 2));
  }
}

const MIN_TTL_MS = ms("5m");
const MAX_TTL_MS = ms("72h");
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env): Config {
  const idempotencyLeaseMs = integer(env, "ONCEQL_IDEMPOTENCY_LEASE_MS", 30_000, 1_000, 600_000);
  const host = nonEmpty(env, "HOST") ?? "127.0.0.1";
  // Beyond loopback, a schema's map and a playground are for whoever reaches the port: asked for, not given.
  const loopback = isLoopbackHost(host);
  const dbPoolSize = integer(env, "ONCEQL_DB_POOL_SIZE", 10, 2, 1_000);
  return {
    port: integer(env, "PORT", 4000, 0, 65535),
    host,
    databaseUrl: databaseUrl(env),
    ...pooling(env),
    dbPoolSize,
    ...attemptSettings(env, dbPoolSize),
    dataDir: path.resolve(nonEmpty(env, "ONCEQL_DATA_DIR") ?? ".onceql"),
    idempotencyTtlMs: ttl(env),
    idempotencyWaitMs: integer(env, "ONCEQL_IDEMPOTENCY_WAIT_MS", 10_000, 0, 300_000),
    idempotencyLeaseMs,
    encryptionKeys: encryptionKeys(env),
    issuerUrl: url(env, "ONCEQL_ISSUER_URL"),
    issuerTimeoutMs: issuerTimeout(env, idempotencyLeaseMs),
    logLevel: logLevel(env),
    rateLimit: integer(env, "ONCEQL_RATE_LIMIT", 1_000, 0, 1_000_000),
    authFailureLimit: integer(env, "ONCEQL_AUTH_FAILURE_LIMIT", 30, 0, 1_000_000),
    trustedProxyHops: integer(env, "ONCEQL_TRUSTED_PROXY_HOPS", 0, 0, 10),
    corsOrigins: corsOrigins(env),
    metricsToken: metricsToken(env),
    shutdownTimeoutMs: integer(env, "ONCEQL_SHUTDOWN_TIMEOUT_MS", 10_000, 0, 600_000),
    graphiql: onOff(env, "ONCEQL_GRAPHIQL", loopback),
    introspection: onOff(env, "ONCEQL_INTROSPECTION", loopback),
  };
}

/**
 * The limits on attempts, each checked against ONCEQL_DB_POOL_SIZE: reads keep at least what the
 * reserve says, and neither a workspace nor the issuer's callers may be given more than the rest.
 */
function attemptSettings(env: Env, poolSize: number): AttemptLimitSettings {
  const dbReadReserve = optionalInteger(env, "ONCEQL_DB_READ_RESERVE", 0, poolSize - 1, "ONCEQL_DB_POOL_SIZE less one");
  const forAttempts = poolSize - (dbReadReserve ?? defaultReadReserve(poolSize));
  const most = `what ONCEQL_DB_POOL_SIZE leaves after ONCEQL_DB_READ_RESERVE`;
  return {
    dbReadReserve,
    attemptsPerWorkspace: optionalInteger(env, "ONCEQL_ATTEMPTS_PER_WORKSPACE", 1, forAttempts, most),
    outsideAttempts: optionalInteger(env, "ONCEQL_OUTSIDE_ATTEMPTS", 1, forAttempts, most),
    attemptQueueMs: integer(env, "ONCEQL_ATTEMPT_QUEUE_MS", 2_000, 0, 60_000),
  };
}

/** A whole number from `min` to `max` (which `maxIs` explains), or undefined when unset. */
function optionalInteger(env: Env, name: string, min: number, max: number, maxIs: string): number | undefined {
  if (nonEmpty(env, name) === undefined) return undefined;
  const value = integer(env, name, 0, 0, Number.MAX_SAFE_INTEGER);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max} (${maxIs}), got ${value}`);
  return value;
}

function onOff(env: Env, name: string, fallback: boolean): boolean {
  const raw = nonEmpty(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (raw !== "on" && raw !== "off") throw new ConfigError(name, `must be on or off, got ${JSON.stringify(raw)}`);
  return raw === "on";
}

function nonEmpty(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `expected a whole number, got ${JSON.stringify(raw)}`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function ttl(env: Env): number {
  const name = "ONCEQL_IDEMPOTENCY_TTL";
  const raw = nonEmpty(env, name);
  if (raw === undefined) return ms("24h");
  const value = /^\d+(\.\d+)?\s*(ms|s|m|h|d)$/i.test(raw) ? ms(raw as ms.StringValue) : undefined;
  if (value === undefined || !Number.isFinite(value)) {
    throw new ConfigError(name, `expected a duration such as 24h or 90m, got ${JSON.stringify(raw)}`);
  }
  if (value < MIN_TTL_MS || value > MAX_TTL_MS) {
    throw new ConfigError(name, `must be between 5m and 72h, got ${raw}`);
  }
  return value;
}

function databaseUrl(env: Env): string | undefined {
  return postgresUrl(env, "DATABASE_URL", " (leave it unset for the embedded database)");
}

/** A postgresql:// URL, or undefined when unset. */
function postgresUrl(env: Env, name: string, hint = ""): string | undefined {
  const raw = url(env, name);
  if (raw !== undefined && !/^postgres(ql)?:$/.test(new URL(raw).protocol)) {
    throw new ConfigError(name, `must be a postgresql:// URL${hint}`);
  }
  return raw;
}

/** ONCEQL_POOLER and ONCEQL_DIRECT_DATABASE_URL, which only a DATABASE_URL has any use for. */
function pooling(env: Env): Pick<Config, "pooler" | "directDatabaseUrl"> {
  const raw = nonEmpty(env, "ONCEQL_POOLER") ?? "session";
  if (raw !== "session" && raw !== "transaction") throw new ConfigError("ONCEQL_POOLER", `must be session or transaction, got ${raw}`);
  const direct = postgresUrl(env, "ONCEQL_DIRECT_DATABASE_URL");
  const database = nonEmpty(env, "DATABASE_URL");
  if (database === undefined && (direct !== undefined || raw === "transaction")) {
    throw new ConfigError(direct !== undefined ? "ONCEQL_DIRECT_DATABASE_URL" : "ONCEQL_POOLER", "applies only with DATABASE_URL");
  }
  if (raw === "transaction" && direct === undefined) {
    throw new ConfigError(
      "ONCEQL_DIRECT_DATABASE_URL",
      "must be set with ONCEQL_POOLER=transaction: migrations take a session-level lock, which a pooler in transaction mode cannot hold",
    );
  }
  return { pooler: raw, directDatabaseUrl: direct };
}

/**
 * A createCard calls the issuer twice at most (list, then create) inside its transaction, which must
 * end within the key's lease: so at most a quarter of the lease, and 5 s unless that is more.
 */
function issuerTimeout(env: Env, leaseMs: number): number {
  const most = Math.floor(leaseMs / 4);
  const value = integer(env, "ONCEQL_ISSUER_TIMEOUT_MS", Math.min(5_000, most), 50, 600_000);
  if (value > most) {
    throw new ConfigError(
      "ONCEQL_ISSUER_TIMEOUT_MS",
      `must be at most a quarter of ONCEQL_IDEMPOTENCY_LEASE_MS (${leaseMs} ms), so at most ${most}, got ${value}`,
    );
  }
  return value;
}

function url(env: Env, name: string): string | undefined {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return undefined;
  if (!URL.canParse(raw)) throw new ConfigError(name, `not a URL: ${JSON.stringify(raw)}`);
  return raw;
}

/**
 * ONCEQL_ENCRYPTION_KEYS (comma-separated, the current key first) or ONCEQL_ENCRYPTION_KEY (one);
 * both at once would leave unsaid which seals.
 */
function encryptionKeys(env: Env): Buffer[] {
  const one = nonEmpty(env, "ONCEQL_ENCRYPTION_KEY");
  const many = nonEmpty(env, "ONCEQL_ENCRYPTION_KEYS");
  if (one !== undefined && many !== undefined) {
    throw new ConfigError("ONCEQL_ENCRYPTION_KEYS", "set it or ONCEQL_ENCRYPTION_KEY, not both (list the current key first)");
  }
  const name = many !== undefined ? "ONCEQL_ENCRYPTION_KEYS" : "ONCEQL_ENCRYPTION_KEY";
  const keys = (many ?? one)?.split(",").map((raw) => raw.trim()) ?? [];
  return keys.map((raw, index) => {
    const key = /^[0-9a-f]{64}$/i.test(raw) ? Buffer.from(raw, "hex") : Buffer.from(raw, "base64");
    if (key.length !== 32) {
      const which = keys.length > 1 ? `key ${index + 1} ` : "";
      throw new ConfigError(name, `${which}must be 32 bytes, as 64 hex digits or base64 (openssl rand -hex 32)`);
    }
    if (keys.slice(0, index).includes(raw)) throw new ConfigError(name, `key ${index + 1} is listed twice`);
    return key;
  });
}

function logLevel(env: Env): string {
  const raw = nonEmpty(env, "LOG_LEVEL") ?? "info";
  if (!LOG_LEVELS.includes(raw)) throw new ConfigError("LOG_LEVEL", `must be one of ${LOG_LEVELS.join(", ")}`);
  return raw;
}

/**
 * Exact origins, never a pattern or `*`: a browser is let read answers only from pages it names,
 * and `null` (sandboxed frames, files) is anyone's.
 */
function corsOrigins(env: Env): string[] {
  const name = "ONCEQL_CORS_ORIGINS";
  const entries = (nonEmpty(env, name) ?? "").split(",").map((entry) => entry.trim());
  return entries.filter(Boolean).map((entry) => {
    const parsed = URL.canParse(entry) ? new URL(entry) : undefined;
    const bare = parsed && parsed.pathname === "/" && !parsed.search && !parsed.hash && !parsed.username && !parsed.password;
    if (!bare || !/^https?:$/.test(parsed.protocol)) {
      throw new ConfigError(name, `expected origins such as https://app.example:8443, comma-separated; got ${JSON.stringify(entry)}`);
    }
    return parsed.origin;
  });
}

/** It travels as a bearer token, so in a bearer token's characters; long enough not to be guessed. */
function metricsToken(env: Env): string | undefined {
  const name = "ONCEQL_METRICS_TOKEN";
  const raw = nonEmpty(env, name);
  if (raw !== undefined && !/^[A-Za-z0-9\-._~+/]{16,}=*$/.test(raw)) {
    throw new ConfigError(name, "must be at least 16 characters of A-Z a-z 0-9 - . _ ~ + / (openssl rand -hex 32)");
  }
  return raw;
}
