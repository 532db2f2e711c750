import path from "node:path";
import type { Logger } from "pino";
import { type App, createApp } from "./app.ts";
import { type Config, sessionSettings } from "./config.ts";
import { type Database, openDatabase } from "./db/database.ts";
import { applyMigrations } from "./db/migrations.ts";
import { ensureDevWorkspace, loadOrCreateEncryptionKey } from "./dev-secrets.ts";
import { sweepExpiredStock } from "./domains/commerce/expiry.service.ts";
import { sweepExpiredHolds } from "./domains/wallets/hold.service.ts";
import { closeHttp, listen, urlOf } from "./http/listener.ts";
import { isLoopbackHost } from "./http/loopback.ts";
import { type IssuerSimulator, startIssuerSimulator } from "./issuer-simulator/server.ts";
import { createLogger } from "./logger.ts";

export { closeHttp, listen, urlOf };

export interface RunningServer {
  url: string;
  app: App;
  db: Database;
  /** The dev workspace's token, on the embedded database. */
  devToken?: string;
  /** The card issuer this server calls. */
  issuerUrl: string;
  /** The issuer simulator this server started, when ONCEQL_ISSUER_URL was unset. */
  issuerSimulator?: IssuerSimulator;
  /**
   * Shuts down: `/readyz` answers 503, the sweepers stop, no new connection is accepted, in-flight
   * requests finish (those still running after ONCEQL_SHUTDOWN_TIMEOUT_MS are cut off), the replay
   * counts are stored and the database closes.
   */
  close(): Promise<void>;
}

const HOLD_SWEEP_INTERVAL_MS = 5_000;
/** How long the pool may take to end once requests were cut off at the shutdown timeout. */
const CUT_OFF_CLOSE_MS = 1_000;

export interface ServerOptions {
  config: Config;
  logger?: Logger;
  sweepIntervalMs?: number;
}

/** What every server needs before it can answer: the database, migrated, and its secrets. */
export interface ServerResources {
  db: Database;
  encryptionKeys: Buffer[];
  /** The dev workspace's token, on the embedded database. */
  devToken?: string;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(options.config.logLevel);
  const resources = await openResources(options.config, logger);
  const { db, encryptionKeys, devToken } = resources;
  let issuerSimulator: IssuerSimulator | undefined;
  try {
    // With no issuer configured, one of our own, so a newcomer can create cards with nothing else
    // running. On the embedded database (one process per data folder) it keeps its cards beside it.
    if (!options.config.issuerUrl) {
      if (options.config.databaseUrl) {
        logger.warn(
          "ONCEQL_ISSUER_URL is not set: using an issuer simulator of this process; servers sharing a database must share one issuer",
        );
      }
      issuerSimulator = await startIssuerSimulator({
        host: "127.0.0.1",
        stateFile: options.config.databaseUrl ? undefined : path.join(options.config.dataDir, "issuer-simulator.json"),
      });
    }
    const config = issuerSimulator ? { ...options.config, issuerUrl: issuerSimulator.url } : options.config;
    const issuerUrl = config.issuerUrl!;
    // Beyond loopback, whoever reaches the port could open GraphiQL and take the token from it.
    const beyondLoopback = !isLoopbackHost(config.host);
    const graphiqlToken = beyondLoopback ? undefined : devToken;
    if (beyondLoopback && devToken) logger.info(`HOST is ${config.host}, beyond loopback: GraphiQL opens without the dev token`);
    if (beyondLoopback && !config.metricsToken) {
      logger.warn(
        `HOST is ${config.host}, beyond loopback, and ONCEQL_METRICS_TOKEN is not set: /metrics answers anyone who reaches the port`,
      );
    }
    const app = createApp({ config, db, logger, encryptionKey: encryptionKeys, graphiqlToken });
    const http = await listen(app.yoga, config);
    const url = urlOf(http, config);
    const sweeper = setInterval(() => {
      app.sweep().then(
        (swept) => swept.records && logger.info(swept, "swept expired idempotency records"),
        (error: unknown) => logger.warn({ err: error }, "sweep failed; will try again"),
      );
    }, options.sweepIntervalMs ?? 60_000);
    sweeper.unref();
    // Holds give their funds back, and reservations and unpaid orders their stock, within seconds of
    // expiring, even with nobody reading them: one indexed query each when none is due.
    const holdSweeper = setInterval(() => {
      sweepExpiredHolds(db.prisma).then(
        (released) => released && logger.info({ released }, "released expired holds"),
        (error: unknown) => logger.warn({ err: error }, "releasing expired holds failed; will try again"),
      );
      sweepExpiredStock(db.prisma).then(
        (released) => released && logger.info({ released }, "released expired reservations"),
        (error: unknown) => logger.warn({ err: error }, "releasing expired reservations failed; will try again"),
      );
    }, HOLD_SWEEP_INTERVAL_MS);
    holdSweeper.unref();
    logger.info({ url: `${url}/graphql`, database: db.kind, issuer: issuerUrl, issuerSimulator: !!issuerSimulator }, "onceql is listening");
    let closing: Promise<void> | undefined;
    return {
      url,
      app,
      db,
      devToken,
      issuerUrl,
      issuerSimulator,
      close: () =>
        (closing ??= (async () => {
          app.drain();
          logger.info("shutting down: /readyz answers 503");
          clearInterval(sweeper);
          clearInterval(holdSweeper);
          logger.info("stopped the sweepers");
          const { timedOut } = await closeHttp(http, config.shutdownTimeoutMs, logger);
          await app.close();
          logger.info("stored the replay counts kept in memory");
          await issuerSimulator?.close();
          await closeDatabase(db, timedOut, logger);
          logger.info("closed the database");
        })()),
    };
  } catch (error) {
    await issuerSimulator?.close();
    await db.close();
    throw error;
  }
}

/** Opens the configured database, applies pending migrations, and finds or makes the secrets. */
export async function openResources(config: Config, logger: Logger): Promise<ServerResources> {
  const embedded = !config.databaseUrl;
  const db = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.dbPoolSize,
    pooler: config.pooler,
    directUrl: config.directDatabaseUrl,
    session: sessionSettings(config),
  });
  try {
    const applied = await applyMigrations(db.adapterFactory, {
      onRecovered: (recovered) => logger.warn(recovered, "settled migrations a crash had cut off"),
    });
    if (applied.length) logger.info({ migrations: applied }, "applied migrations");
    if (config.encryptionKeys.length === 0 && !embedded) {
      logger.warn("ONCEQL_ENCRYPTION_KEY is not set: using a key from the data folder; servers sharing this database must share one key");
    }
    const encryptionKeys = config.encryptionKeys.length > 0 ? config.encryptionKeys : [loadOrCreateEncryptionKey(config.dataDir)];
    const dev = embedded ? await ensureDevWorkspace(db.prisma, config.dataDir) : undefined;
    return { db, encryptionKeys, devToken: dev?.token };
  } catch (error) {
    await db.close();
    throw error;
  }
}

/**
 * A request cut off at the shutdown timeout may still hold a transaction. On PostgreSQL the process
 * need not wait for it: a session that goes away is rolled back and its key released, which a retry
 * with the same key finds (and any card the issuer made, it adopts). The embedded database is one
 * session in this process, so it is always let finish and close cleanly.
 */
async function closeDatabase(db: Database, timedOut: boolean, logger: Logger): Promise<void> {
  if (!timedOut || db.kind !== "postgresql") return db.close();
  let timer: NodeJS.Timeout | undefined;
  const waited = await Promise.race([
    db.close().then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(resolve, CUT_OFF_CLOSE_MS, false))),
  ]);
  clearTimeout(timer);
  if (!waited) logger.warn("transactions of cut-off requests still open: leaving them to PostgreSQL to roll back");
}
