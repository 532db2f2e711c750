import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, sessionSettings } from "../../src/config.ts";
import { openDatabase } from "../../src/db/database.ts";
import { createPostgresDatabase, postgresAvailable } from "../helpers/databases.ts";
import { CREATE_IDENTITY } from "../helpers/operations.ts";
import { startCountingApp } from "../helpers/query-log.ts";

type CountingApp = Awaited<ReturnType<typeof startCountingApp>>;

/**
 * What the wrapper itself sends on PostgreSQL, through the plugin's Prisma driver: a first
 * execution is two scripts of its own (BEGIN with the claim and its savepoint, then the record
 * with COMMIT) around the mutation's statements; a replay the server has not cached is one. In
 * transaction mode (ONCEQL_POOLER=transaction) the attempt's settings ride in its first script, as
 * SET LOCAL, and nothing is prepared.
 */
describe.skipIf(!postgresAvailable())("the wrapper's round trips (PostgreSQL)", () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  const opened: CountingApp[] = [];

  beforeAll(async () => {
    database = await createPostgresDatabase();
  });
  afterAll(async () => {
    for (const app of opened) await app.close();
    await database?.drop();
  });

  async function server(pooler: "session" | "transaction"): Promise<CountingApp> {
    const config = { ...loadConfig({}), databaseUrl: database.url, pooler, directDatabaseUrl: database.url };
    const app = await startCountingApp({
      config: { pooler, directDatabaseUrl: database.url },
      open: (onQuery) =>
        openDatabase({
          databaseUrl: database.url,
          poolSize: 2,
          pooler,
          directUrl: database.url,
          session: sessionSettings(config),
          onQuery,
        }),
    });
    opened.push(app);
    return app;
  }

  /** The wrapper's own scripts: the claim (it begins the transaction) and the record (it commits). */
  const wrapperScripts = (statements: string[]) =>
    statements.filter((sql) => /^BEGIN;|COMMIT$|EXECUTE onceql_|idempotency_records/.test(sql) && !isCountFlush(sql));
  /** Replay counts, added to their records in the background (not the request's). */
  const isCountFlush = (sql: string) => sql.startsWith("UPDATE idempotency_records r");

  for (const pooler of ["session", "transaction"] as const) {
    it(`${pooler} mode: a first execution sends two scripts of its own, a replay one`, async () => {
      const first = await server(pooler);
      const other = await server(pooler);
      const input = { clientMutationId: `trips-${pooler}`, externalId: `trips-${pooler}` };
      const ran = await first.statementsDuring(async () => {
        const response = await first.gql(CREATE_IDENTITY, { input });
        expect(response.body.data.createIdentity.__typename).toBe("CreateIdentityPayload");
      });
      const own = wrapperScripts(ran);
      expect(own, ran.join("\n---\n")).toHaveLength(2);
      expect(own[0]).toMatch(/^BEGIN;[\s\S]*pg_try_advisory_xact_lock|onceql_try_lock/);
      expect(own[0]).toMatch(/SAVEPOINT onceql_mutation$/);
      expect(own[1]).toMatch(/INSERT INTO idempotency_records|EXECUTE onceql_complete/);
      expect(own[1]).toMatch(/COMMIT$/);
      if (pooler === "transaction") {
        expect(own[0]).toMatch(
          /^BEGIN;\nSET LOCAL lock_timeout = \d+;\nSET LOCAL statement_timeout = \d+;\nSET LOCAL idle_in_transaction_session_timeout = \d+;/,
        );
        expect(ran.join("\n")).not.toMatch(/PREPARE|EXECUTE onceql_/);
      } else {
        expect(own[0]).not.toMatch(/SET LOCAL/);
        expect(own.join("\n")).toMatch(/EXECUTE onceql_try_lock/);
      }

      // Another server, which has not cached the outcome: one script of its own, nothing written.
      const replayed = await other.statementsDuring(async () => {
        const response = await other.gql(CREATE_IDENTITY, { input }, { token: first.token });
        expect(response.body.extensions.idempotency[0].status).toBe("REPLAYED");
      });
      expect(wrapperScripts(replayed), replayed.join("\n---\n")).toHaveLength(1);
      expect(replayed.filter((sql) => /INSERT|UPDATE|DELETE/.test(sql) && !isCountFlush(sql))).toEqual([]);
    });
  }
});
