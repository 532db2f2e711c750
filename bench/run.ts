// npm run bench: what idempotency costs, measured over HTTP against the real server on PostgreSQL
// and on PGlite, by autocannon in a separate process. Every figure is the median of ROUNDS rounds;
// ratios are taken within each round, so machine noise cancels. Writes bench/results.json and
// bench/latency.svg.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { startPgBouncer } from "../scripts/pgbouncer.ts";
import { adminSql, databaseUrlOnAdminServer } from "../scripts/postgres-admin.ts";
import { measureCards } from "./card-phases.ts";
import { measureDebits } from "./debit-phases.ts";
import { startBenchServer, stopBenchServer, stopLoader } from "./harness.ts";
import { measureIdentity } from "./identity-phases.ts";
import { latencyPlot } from "./plot.ts";
import { measureShop } from "./shop-phases.ts";
import { measureStartup } from "./startup.ts";

const { values: args } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    requests: { type: "string", default: "400" },
    "memory-outcomes": { type: "string", default: "100000" },
    /** postgresql, pglite, and pgbouncer (the same PostgreSQL through PgBouncer in transaction mode). */
    engines: { type: "string", default: "postgresql,pglite" },
    /**
     * Which sets of phases: identity (createIdentity, with the bare reference server on
     * PostgreSQL), debit (debitWallet), shop (createOrder, checkout), cards (createCard, and 20 keys at
     * once for one identity; PostgreSQL), startup (spawn to first answer).
     */
    phases: { type: "string", default: "identity,debit,shop,cards,startup" },
  },
});
const ROUNDS = Number(args.rounds);
const N = Number(args.requests);
const PHASES = new Set(args.phases!.split(","));
const here = import.meta.dirname;

const TARGETS = {
  overhead: ["<=", 1.6],
  // Issue 19: the wrapper at 0.8 of the same resolver without it, and exactly-once at half of a
  // bare server's throughput; the cheapest authenticated query within 1.5 of a bare yoga server's.
  throughput_ratio: [">=", 0.8],
  ref_throughput_ratio: [">=", 0.5],
  noop_vs_ref_noop: ["<=", 1.5],
  first_vs_noop: ["<=", 7],
  replay_vs_first: ["<=", 0.5],
  replay_vs_noop: ["<=", 1.1],
  debit_overhead: ["<=", 1.3],
  debit_throughput_ratio: [">=", 0.7],
  hot_vs_distinct: [">=", 0.5],
  // Issue 17: a start within 1.3 of a bare yoga server's, both built the same way.
  start_vs_bare: ["<=", 1.3],
} as const;

interface EngineResult {
  summary: Record<string, number>;
  rounds: Record<string, Record<string, number>[]>;
  memory?: { growth_mb: number; growth_second_mb: number; outcomes: number };
  samples?: Record<string, number[]>;
}

async function benchEngine(engine: string, env: Record<string, string>, memoryOutcomes: number): Promise<EngineResult> {
  const server = await startBenchServer(env);
  // The reference: a bare yoga server doing the same INSERT with plain pg (PostgreSQL only).
  const bare = engine === "postgresql" && PHASES.has("identity") ? await startBenchServer(env, { entry: "bare-server.ts" }) : undefined;
  const progress = (what: string) => process.stderr.write(`  ${engine}: ${what}\n`);
  const result: EngineResult = { summary: {}, rounds: {} };
  try {
    if (PHASES.has("identity")) {
      const identity = await measureIdentity(server, { rounds: ROUNDS, requests: N, memoryOutcomes, bare, progress });
      Object.assign(result.summary, identity.summary);
      result.rounds.identity = identity.rounds;
      result.memory = identity.memory;
      result.samples = identity.samples;
    }
    if (PHASES.has("debit")) {
      const debits = await measureDebits(server, { rounds: ROUNDS, requests: N, progress });
      Object.assign(result.summary, debits.summary);
      result.rounds.debit = debits.rounds;
    }
    if (PHASES.has("shop")) {
      const shop = await measureShop(server, { rounds: ROUNDS, requests: N, progress });
      Object.assign(result.summary, shop.summary);
      result.rounds.shop = shop.rounds;
    }
    if (PHASES.has("cards") && engine === "postgresql") {
      const cards = await measureCards(server, { rounds: ROUNDS, requests: N, progress });
      Object.assign(result.summary, cards.summary);
      result.rounds.cards = cards.rounds;
    }
    if (PHASES.has("startup") && engine === "postgresql") {
      const startup = await measureStartup(env, { rounds: ROUNDS, progress });
      Object.assign(result.summary, startup.summary);
    }
    return result;
  } finally {
    await stopBenchServer(server);
    if (bare) await stopBenchServer(bare);
  }
}

const results: Record<string, unknown> = {
  rounds: ROUNDS,
  requests_per_phase: N,
  node: process.version,
  when: new Date().toISOString(),
};
const engines: Record<string, EngineResult> = {};
try {
  for (const engine of args.engines!.split(",")) {
    process.stderr.write(`${engine}\n`);
    if (engine === "pgbouncer") {
      // The same PostgreSQL through Debian's PgBouncer in transaction mode (ONCEQL_POOLER=transaction).
      await adminSql("DROP DATABASE IF EXISTS onceql_bench WITH (FORCE)");
      await adminSql("CREATE DATABASE onceql_bench");
      const bouncer = await startPgBouncer({ mode: "transaction", poolSize: 20 });
      try {
        const direct = databaseUrlOnAdminServer("onceql_bench");
        const env = {
          DATABASE_URL: bouncer.through(direct),
          ONCEQL_POOLER: "transaction",
          ONCEQL_DIRECT_DATABASE_URL: direct,
          ONCEQL_ENCRYPTION_KEY: "00".repeat(32),
          ONCEQL_RATE_LIMIT: "0",
        };
        engines[engine] = await benchEngine(engine, env, Number(args["memory-outcomes"]));
      } finally {
        await bouncer.stop();
        await adminSql("DROP DATABASE IF EXISTS onceql_bench WITH (FORCE)");
      }
    } else if (engine === "postgresql") {
      await adminSql("DROP DATABASE IF EXISTS onceql_bench WITH (FORCE)");
      await adminSql("CREATE DATABASE onceql_bench");
      const env = {
        DATABASE_URL: databaseUrlOnAdminServer("onceql_bench"),
        ONCEQL_ENCRYPTION_KEY: "00".repeat(32),
        ONCEQL_RATE_LIMIT: "0",
      };
      engines[engine] = await benchEngine(engine, env, Number(args["memory-outcomes"]));
      await adminSql("DROP DATABASE IF EXISTS onceql_bench WITH (FORCE)");
    } else {
      const dataDir = mkdtempSync(path.join(tmpdir(), "onceql-bench-"));
      try {
        // PGlite runs every query on one connection in the server's own process: a fifth of the outcomes.
        engines[engine] = await benchEngine(
          engine,
          { ONCEQL_DATA_DIR: dataDir, ONCEQL_RATE_LIMIT: "0" },
          Math.round(Number(args["memory-outcomes"]) / 5),
        );
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
    results[engine] = { ...engines[engine], samples: undefined };
  }
} finally {
  stopLoader();
}

const names = Object.keys(engines);
const rows: string[][] = [["figure", "target", ...names]];
const value = (engine: string, name: string) => engines[engine]!.summary[name];
const has = (name: string) => names.some((engine) => value(engine, name) !== undefined);
for (const [name, [op, target]] of Object.entries(TARGETS)) {
  if (!has(name)) continue;
  rows.push([
    name,
    `${op} ${target}`,
    // The targets are PostgreSQL's, the production engine's; PGlite's figures are shown beside them.
    ...names.map((engine) => {
      const v = value(engine, name);
      if (v === undefined) return "—";
      if (engine !== "postgresql") return String(v);
      return `${v}${(op === "<=" ? v <= target : v >= target) ? "" : " (missed)"}`;
    }),
  ]);
}
if (has("storm_executions_max")) {
  rows.push(["storm executions (200 at once, one key)", "= 1", ...names.map((e) => String(value(e, "storm_executions_max")))]);
}
for (const name of [
  "storm_p99_ms",
  "first_p50_ms",
  "bare_p50_ms",
  "replay_p50_ms",
  "noop_p50_ms",
  "rps_with",
  "rps_without",
  "ref_first_p50_ms",
  "ref_rps",
  "debit_first_p50_ms",
  "debit_bare_p50_ms",
  "debit_rps_with",
  "debit_rps_without",
  "debit_rps_hot",
  "debit_hot_p99_ms",
  "order_first_p50_ms",
  "checkout_first_p50_ms",
  "order_rps_hot",
  "order_hot_p99_ms",
  "card_first_p50_ms",
  "card_race_last_ms",
  "card_race_last_worst_ms",
  "start_ms",
  "bare_start_ms",
  "tsx_start_ms",
  "bare_tsx_start_ms",
  "tsx_start_vs_bare_tsx",
]) {
  if (has(name)) rows.push([name, "", ...names.map((e) => String(value(e, name) ?? "—"))]);
}
if (names.some((engine) => engines[engine]!.memory)) {
  rows.push([
    "RSS growth MB: first N outcomes, next N (N)",
    "bounded",
    ...names.map((e) => {
      const memory = engines[e]!.memory;
      return memory ? `${memory.growth_mb}, ${memory.growth_second_mb} (${memory.outcomes})` : "";
    }),
  ]);
}
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
console.log(rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join("  ")).join("\n"));

writeFileSync(path.join(here, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
const plotEngine = engines.postgresql?.samples ? "postgresql" : names.find((engine) => engines[engine]!.samples);
if (plotEngine) {
  writeFileSync(
    path.join(here, "latency.svg"),
    latencyPlot(`createIdentity over HTTP on ${plotEngine}, one connection (last round)`, engines[plotEngine]!.samples!),
  );
}
console.log(`\nwrote bench/results.json${plotEngine ? " and bench/latency.svg" : ""}`);
