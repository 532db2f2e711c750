import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, sessionSettings } from "../../src/config.ts";
import { openDatabase } from "../../src/db/database.ts";
import { createPostgresDatabase, postgresAvailable } from "../helpers/databases.ts";
import { CREATE_IDENTITY } from "../helpers/operations.ts";
import { startCountingApp } from "../helpers/query-log.ts";
import { startRoundTripProxy } from "../helpers/round-trip-proxy.ts";

type CountingApp = Awaited<ReturnType<typeof startCountingApp>>;

/**
 * What the wrapper itself sends on PostgreSQL, through the plugin's Prisma driver: a first
 * execution is two scripts of its own (BEGIN with the claim and its savepoint, then the record
 * with COMMIT) around the mutation's statements; a replay the server has not cached is one. Where
 * the pool pipelines (session mode) and the mutation's effects all stay in the database
 * (createIdentity), its first statement goes out with the claim and a guard, before they answer:
 * two round trips in all, where transaction mode takes three. In transaction mode
 * (ONCEQL_POOLER=transaction) the attempt's settings ride in its first script, as SET LOCAL, and
 * nothing is prepared. Round trips are counted by a proxy between the server and PostgreSQL.
 */
describe.skipIf(!postgresAvailable())("the wrapper's round trips (PostgreSQL)", () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let proxy: Awaited<ReturnType<typeof startRoundTripProxy>>;
  const opened: CountingApp[] = [];

  beforeAll(async () => {
    database = await createPostgresDatabase();
    proxy = await startRoundTripProxy(database.url);
  });
  afterAll(async () => {
    for (const app of opened) await app.close();
    await proxy?.close();
    await database?.drop();
  });

  async function server(pooler: "session" | "transaction"): Promise<CountingApp> {
    const config = { ...loadConfig({}), databaseUrl: database.url, pooler, directDatabaseUrl: database.url };
    const app = await startCountingApp({
      config: { pooler, directDatabaseUrl: database.url },
      open: (onQuery) =>
        openDatabase({
          databaseUrl: proxy.url,
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

  /** The wrapper's own scripts: the claim (it begins the transaction), its guard when sent ahead, and the record (it commits). */
  const wrapperScripts = (statements: string[]) =>
    statements.filter((sql) => /^BEGIN;|COMMIT$|EXECUTE onceql_|idempotency_records|onceql_guard/.test(sql) && !isCountFlush(sql));
  /** Replay counts, added to their records in the background (not the request's). */
  const isCountFlush = (sql: string) => sql.startsWith("UPDATE idempotency_records r");

  for (const pooler of ["session", "transaction"] as const) {
    it(`${pooler} mode: a first execution sends two scripts of its own, a replay one`, async () => {
      const first = await server(pooler);
      const other = await server(pooler);
      // Connected and authenticated first: what is counted is the mutation's alone.
      for (const app of [first, other]) {
        const warm = { clientMutationId: `warm-${pooler}-${app.token}`, externalId: `warm-${pooler}-${app.token}` };
        expect((await app.gql(CREATE_IDENTITY, { input: warm }, { token: first.token })).body.data.createIdentity).toBeTruthy();
      }
      const input = { clientMutationId: `trips-${pooler}`, externalId: `trips-${pooler}` };
      let ran: string[] = [];
      // On the attempt's connection: replay counts are flushed in the background, on a timer.
      const attempts = { only: "BEGIN;" };
      const roundTrips = await proxy.during(async () => {
        ran = await first.statementsDuring(async () => {
          const response = await first.gql(CREATE_IDENTITY, { input });
          expect(response.body.data.createIdentity.__typename).toBe("CreateIdentityPayload");
        });
      }, attempts);
      const own = wrapperScripts(ran);
      const log = ran.join("\n---\n");
      expect(own[0]).toMatch(/^BEGIN;[\s\S]*pg_try_advisory_xact_lock|onceql_try_lock/);
      expect(own.at(-1)).toMatch(/INSERT INTO idempotency_records|EXECUTE onceql_complete/);
      expect(own.at(-1)).toMatch(/COMMIT$/);
      if (pooler === "transaction") {
        expect(own, log).toHaveLength(2);
        expect(own[0]).toMatch(/SAVEPOINT onceql_mutation$/);
        expect(own[0]).toMatch(
          /^BEGIN;\nSET LOCAL lock_timeout = \d+;\nSET LOCAL statement_timeout = \d+;\nSET LOCAL idle_in_transaction_session_timeout = \d+;/,
        );
        expect(ran.join("\n")).not.toMatch(/PREPARE|EXECUTE onceql_/);
        // The claim, the mutation's INSERT, the record with COMMIT: each waits for the one before.
        expect(roundTrips, log).toBe(3);
      } else {
        // The claim, its guard (and savepoint), the INSERT sent behind them, then the record.
        expect(own, log).toHaveLength(3);
        expect(own[1]).toMatch(/^EXECUTE onceql_guard\(.*\);\nSAVEPOINT onceql_mutation$/);
        expect(ran.indexOf(own[1]!) + 1).toBe(ran.findIndex((sql) => sql.includes("INSERT INTO identities")));
        expect(own[0]).not.toMatch(/SET LOCAL/);
        expect(own.join("\n")).toMatch(/EXECUTE onceql_try_lock/);
        expect(roundTrips, log).toBe(2);
      }

      // Another server, which has not cached the outcome: the claim finds the record (in session
      // mode the INSERT sent behind it fails unexecuted on the guard), then the rollback.
      let replayed: string[] = [];
      const replayTrips = await proxy.during(async () => {
        replayed = await other.statementsDuring(async () => {
          const response = await other.gql(CREATE_IDENTITY, { input }, { token: first.token });
          expect(response.body.extensions.idempotency[0].status).toBe("REPLAYED");
        });
      }, attempts);
      const replayLog = replayed.join("\n---\n");
      expect(wrapperScripts(replayed), replayLog).toHaveLength(pooler === "transaction" ? 1 : 2);
      // Whatever of the mutation was sent behind the claim failed on the guard, unexecuted.
      expect(
        replayed.filter((sql) => /^(INSERT|UPDATE|DELETE)/.test(sql) && !sql.includes("INSERT INTO identities") && !isCountFlush(sql)),
      ).toEqual([]);
      expect(replayTrips, replayLog).toBe(2);
      expect(await first.db.prisma.identity.count({ where: { externalId: input.externalId } })).toBe(1);
    });
  }
});
