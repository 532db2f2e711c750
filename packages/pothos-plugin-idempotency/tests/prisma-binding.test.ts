import { PGlite } from "@electric-sql/pglite";
import IdempotencyPlugin, { createIdempotency, type MutationRunner, UnsupportedSetupError } from "@onceql/pothos-plugin-idempotency";
import { prismaDriver } from "@onceql/pothos-plugin-idempotency/prisma";
import { useIdempotency } from "@onceql/pothos-plugin-idempotency/yoga";
import SchemaBuilder from "@pothos/core";
import ErrorsPlugin from "@pothos/plugin-errors";
import { PrismaPg } from "@prisma/adapter-pg";
import type { SqlDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import { createYoga } from "graphql-yoga";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
// Any generated Prisma client runs raw SQL on any database (see helpers/example.ts).
import { PrismaClient } from "../../../src/generated/prisma/client.ts";
import type { Context } from "./example/schema.ts";
import { call } from "./example/server.ts";
import { newTenant } from "./helpers/example.ts";
import { createPostgresDatabase, postgresAvailable } from "./helpers/postgres.ts";

/**
 * prismaDriver binds each attempt's queries to that attempt by construction: its `tx` is a Prisma
 * client of the attempt's own, so neither an async context nor Prisma's batching decides where a
 * query runs. A setup that would let a query escape (a client not built on the adapter it is
 * given, one client for every attempt, an adapter of another engine) is refused before it commits
 * anything.
 */

const STOCK_SQL = "CREATE TABLE IF NOT EXISTS stock (scope text PRIMARY KEY, units int NOT NULL)";

const ADD_STOCK = `mutation AddStock($input: AddStockInput!) {
  addStock(input: $input) { __typename ... on AddStockPayload { units txids } }
}`;

/**
 * `addStock` adds 1000 units through `tx`, reads `txid_current()` through `tx` and through `sql`
 * (the attempt's own connection), waiting between its statements so that attempts interleave; it
 * throws after its write when told to.
 */
function stockServer(runner: MutationRunner) {
  const builder = new SchemaBuilder<{ Context: Context; Idempotency: { Tx: PrismaClient } }>({
    plugins: [ErrorsPlugin, IdempotencyPlugin],
    idempotency: { runner, scope: (ctx: Context) => ctx.tenant },
  } as never);
  builder.queryType({ fields: (t) => ({ ok: t.boolean({ resolve: () => true }) }) });
  builder.mutationType({});
  builder.idempotentMutationField("addStock", {
    inputFields: (t) => ({ fail: t.boolean({ required: true }) }),
    outputFields: { units: "Int", txids: ["String"] },
    run: async (input, { tx, sql, scope }) => {
      const [row] = await tx.$queryRawUnsafe<{ units: number }[]>(
        "INSERT INTO stock (scope, units) VALUES ($1, 1000) ON CONFLICT (scope) DO UPDATE SET units = stock.units + 1000 RETURNING units",
        scope,
      );
      await new Promise((resolve) => setTimeout(resolve, 5));
      const [viaClient] = await tx.$queryRawUnsafe<{ txid: string }[]>("SELECT txid_current()::text AS txid");
      const [viaSql] = await sql<{ txid: string }>("SELECT txid_current()::text AS txid");
      if (input.fail) throw new Error("the warehouse service fell over");
      return { units: row!.units, txids: [viaClient!.txid, viaSql!.txid] };
    },
  });
  return createYoga<object, Context>({
    schema: builder.toSchema(),
    context: ({ request }) => ({ tenant: request.headers.get("x-tenant") ?? "public" }),
    plugins: [useIdempotency()],
    maskedErrors: false,
    logging: false,
  });
}

interface Engine {
  factory(): SqlDriverAdapterFactory;
  sql(text: string, params?: unknown[]): Promise<{ units: number }[]>;
  close(): Promise<void>;
}

const engines: Record<string, () => Promise<Engine>> = {
  pglite: async () => {
    const db = new PGlite();
    await db.query(STOCK_SQL);
    return {
      factory: () => new PrismaPGlite(db),
      sql: async (text, params) => (await db.query<{ units: number }>(text, params)).rows,
      close: () => db.close(),
    };
  },
  postgres: async () => {
    const database = await createPostgresDatabase();
    const pool = new pg.Pool({ connectionString: database.url, max: 12, pipeline: true } as pg.PoolConfig);
    pool.on("error", () => {});
    await pool.query(STOCK_SQL);
    return {
      factory: () => new PrismaPg(pool),
      sql: async (text, params) => (await pool.query(text, params)).rows,
      close: async () => {
        await pool.end();
        await database.drop();
      },
    };
  },
};

for (const [kind, open] of Object.entries(engines)) {
  describe.skipIf(kind === "postgres" && !postgresAvailable)(`prismaDriver on ${kind}`, () => {
    let engine: Engine;
    beforeAll(async () => {
      engine = await open();
      await createIdempotency({
        driver: prismaDriver({ adapter: engine.factory(), client: (adapter) => new PrismaClient({ adapter }) }),
      }).ensureSchema();
    });
    afterAll(async () => {
      await engine?.close();
    });
    const unitsOf = async (tenant: string) => (await engine.sql("SELECT units FROM stock WHERE scope = $1", [tenant]))[0]?.units;

    test("12 attempts at once, interleaving: each one's queries through tx run in its own transaction", async () => {
      const server = stockServer(
        createIdempotency({ driver: prismaDriver({ adapter: engine.factory(), client: (adapter) => new PrismaClient({ adapter }) }) }),
      );
      const tenants = Array.from({ length: 12 }, () => newTenant());
      const responses = await Promise.all(
        tenants.map((tenant) => call(server, tenant, ADD_STOCK, { input: { clientMutationId: "k", fail: false } })),
      );
      for (const response of responses) {
        expect(response.body.errors).toBeUndefined();
        const [viaClient, viaSql] = response.body.data.addStock.txids;
        expect(viaClient).toBe(viaSql);
      }
      expect(new Set(responses.map((response) => response.body.data.addStock.txids[0])).size).toBe(12);
      for (const tenant of tenants) expect(await unitsOf(tenant)).toBe(1000);
    });

    test("a write through tx, then a failure: nothing committed, NOT_STORED, and the retry adds once", async () => {
      const server = stockServer(
        createIdempotency({ driver: prismaDriver({ adapter: engine.factory(), client: (adapter) => new PrismaClient({ adapter }) }) }),
      );
      const tenant = newTenant();
      const failed = await call(server, tenant, ADD_STOCK, { input: { clientMutationId: "k", fail: true } });
      expect(failed.body.errors?.[0].extensions.outcome).toBe("NOT_STORED");
      expect(await unitsOf(tenant)).toBeUndefined();
      // The same key again (the failure left it free): it runs once, on top of nothing.
      const retried = await call(server, tenant, ADD_STOCK, { input: { clientMutationId: "k", fail: false } });
      expect(retried.body.data.addStock.units).toBe(1000);
      expect(await unitsOf(tenant)).toBe(1000);
    });

    test("a client not built on the adapter it is given is refused, naming the fix, and its write never commits", async () => {
      // The setup that type-checks and broke atomicity: the team's own client, on an adapter of its own.
      const own = new PrismaClient({ adapter: engine.factory() });
      const idempotency = createIdempotency({ driver: prismaDriver({ adapter: engine.factory(), client: () => own }) });
      await expect(idempotency.verify()).rejects.toThrow(UnsupportedSetupError);
      await expect(idempotency.verify()).rejects.toThrow(/client: \(adapter\) => new PrismaClient\(\{ adapter \}\)/);
      const tenant = newTenant();
      const response = await call(stockServer(idempotency), tenant, ADD_STOCK, { input: { clientMutationId: "k", fail: true } });
      expect(response.body.errors?.[0].extensions.outcome).toBe("NOT_STORED");
      expect(response.body.errors?.[0].message).toMatch(/did not send its queries through the adapter it was given/);
      expect(await unitsOf(tenant)).toBeUndefined();
      await own.$disconnect();
    });

    test("one client for every attempt is refused where attempts run at once: their queries would be batched together", async () => {
      let shared: PrismaClient | undefined;
      const idempotency = createIdempotency({
        driver: prismaDriver({
          adapter: engine.factory(),
          client: (adapter) => {
            shared ??= new PrismaClient({ adapter });
            return shared;
          },
        }),
      });
      const server = stockServer(idempotency);
      const responses = await Promise.all(
        Array.from({ length: 6 }, () => newTenant()).map((tenant) =>
          call(server, tenant, ADD_STOCK, { input: { clientMutationId: "k", fail: false } }),
        ),
      );
      const refused = responses.filter((response) => response.body.errors?.[0]?.extensions?.outcome === "NOT_STORED");
      // PGlite runs one attempt at a time, so one client serves them all; on PostgreSQL a second
      // attempt at once needs a client of its own, and is given the first again.
      if (kind === "pglite") expect(refused).toEqual([]);
      else expect(refused.length).toBeGreaterThanOrEqual(1);
      await expect(
        createIdempotency({ driver: prismaDriver({ adapter: engine.factory(), client: () => shared! }) }).verify(),
      ).rejects.toThrow(UnsupportedSetupError);
    });
  });
}

describe("prismaDriver refuses adapters it cannot hold an attempt on", () => {
  test("another engine (MariaDB, SQLite): refused at once, naming the supported adapters", () => {
    for (const [provider, adapterName] of [
      ["mysql", "@prisma/adapter-mariadb"],
      ["sqlite", "@prisma/adapter-better-sqlite3"],
    ] as const) {
      const factory = { provider, adapterName, connect: async () => ({}) } as unknown as SqlDriverAdapterFactory;
      expect(() => prismaDriver({ adapter: factory, client: (adapter) => new PrismaClient({ adapter }) })).toThrow(
        /@prisma\/adapter-pg \(PostgreSQL\) or pglite-prisma-adapter \(PGlite\)/,
      );
    }
  });

  test("a PostgreSQL adapter that does not hand out connections (Neon's, say): refused", () => {
    const factory = {
      provider: "postgres",
      adapterName: "@prisma/adapter-neon",
      connect: async () => ({}),
    } as unknown as SqlDriverAdapterFactory;
    expect(() => prismaDriver({ adapter: factory, client: (adapter) => new PrismaClient({ adapter }) })).toThrow(UnsupportedSetupError);
  });
});
