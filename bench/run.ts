// npm run bench: what idempotency costs, measured over HTTP against the real server on PostgreSQL
// and on PGlite, by autocannon in a separate process. Every figure is the median of ROUNDS rounds;
// ratios are taken within each round, so machine noise cancels. Writes bench/results.json and
// bench/latency.svg.
import { type ChildProcess, fork, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { adminSql, databaseUrlOnAdminServer } from "../scripts/postgres-admin.ts";
import { BASELINE_HEADER } from "./baseline-runner.ts";
import type { Phase, PhaseResult } from "./load.ts";
import { latencyPlot } from "./plot.ts";
import { median, percentile, round } from "./stats.ts";

const { values: args } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    requests: { type: "string", default: "400" },
    "memory-outcomes": { type: "string", default: "100000" },
    engines: { type: "string", default: "postgresql,pglite" },
  },
});
const ROUNDS = Number(args.rounds);
const N = Number(args.requests);
const here = import.meta.dirname;
const root = path.resolve(here, "..");

const TARGETS = {
  overhead: ["<=", 1.25],
  replay_vs_first: ["<=", 0.5],
  replay_vs_noop: ["<=", 1.5],
  throughput_ratio: [">=", 0.8],
} as const;

const createIdentity = (key: string, externalId = key) =>
  JSON.stringify({
    query:
      "mutation($input: CreateIdentityInput!) { createIdentity(input: $input) { __typename ... on CreateIdentityPayload { identity { id externalId } } } }",
    variables: { input: { clientMutationId: key, externalId } },
  });
const NOOP = JSON.stringify({ query: "{ workspace { id } }" });
const BASELINE = { [BASELINE_HEADER]: "1" };

interface Server {
  url: string;
  token: string;
  pid: number;
  child: ChildProcess;
}

async function startServer(env: Record<string, string>): Promise<Server> {
  const child = spawn(process.execPath, ["--expose-gc", "--import", "tsx", path.join(here, "server.ts")], {
    cwd: root,
    env: { ...process.env, PORT: "0", LOG_LEVEL: "silent", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let output = "";
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (chunk) => {
      output += chunk;
      const line = output.split("\n").find((l) => l.startsWith("{"));
      if (line) resolve({ ...JSON.parse(line), child });
    });
    child.on("exit", (code) => reject(new Error(`bench server exited with ${code}: ${output}`)));
  });
}

async function stopServer(server: Server): Promise<void> {
  if (server.child.exitCode !== null) return;
  const exited = new Promise((resolve) => server.child.once("exit", resolve));
  server.child.kill("SIGTERM");
  await exited;
}

const loader = fork(path.join(here, "load.ts"), { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
function load(phase: Phase): Promise<PhaseResult> {
  return new Promise((resolve, reject) => {
    loader.once("message", (message: { ok: boolean; result?: PhaseResult; error?: string }) =>
      message.ok ? resolve(message.result!) : reject(new Error(message.error)),
    );
    loader.send(phase);
  });
}

/** Resident memory after a full garbage collection in the server. */
async function rssMb(pid: number): Promise<number> {
  process.kill(pid, "SIGUSR2");
  await sleep(1_000);
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;
}

async function counter(server: Server, name: "executions" | "replays"): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Number(new RegExp(`onceql_idempotency_${name}_total\\{mutation="createIdentity"\\} (\\d+)`).exec(text)?.[1] ?? 0);
}

/** Runs a phase and checks, by the server's own counters, that it did what it is named for. */
async function checked(server: Server, phase: Phase, expect: { executions?: number; replays?: number }): Promise<PhaseResult> {
  const before = { executions: await counter(server, "executions"), replays: await counter(server, "replays") };
  const result = await load(phase);
  for (const name of ["executions", "replays"] as const) {
    const delta = (await counter(server, name)) - before[name];
    const wanted = expect[name] ?? 0;
    if (delta !== wanted)
      throw new Error(`a phase meant ${wanted} ${name} and made ${delta}: the requests are not doing what they are named for`);
  }
  if (result.non2xx || result.errors) throw new Error(`${result.non2xx} non-2xx responses and ${result.errors} errors in a phase`);
  return result;
}

async function benchEngine(engine: string, env: Record<string, string>, memoryOutcomes: number) {
  const server = await startServer(env);
  try {
    return await measure(engine, server, memoryOutcomes);
  } finally {
    await stopServer(server);
  }
}

async function measure(engine: string, server: Server, memoryOutcomes: number) {
  const base = { url: server.url, token: server.token };
  const progress = (what: string) => process.stderr.write(`  ${engine}: ${what}\n`);
  progress("warming up");
  await load({ ...base, body: createIdentity("warm-%N%"), connections: 1, amount: 300 });
  await load({ ...base, body: NOOP, connections: 1, amount: 300 });

  const rounds: Record<string, number>[] = [];
  let samples: Record<string, number[]> = {};
  for (let r = 0; r < ROUNDS; r++) {
    progress(`round ${r + 1} of ${ROUNDS}`);
    const first = await checked(server, { ...base, body: createIdentity(`r${r}-first-%N%`), connections: 1, amount: N }, { executions: N });
    const bare = await checked(
      server,
      { ...base, body: createIdentity(`r${r}-bare-%N%`), connections: 1, amount: N, headers: BASELINE },
      {},
    );
    const replay = await checked(
      server,
      { ...base, body: createIdentity(`r${r}-first-%N%`), connections: 1, amount: N, cycle: N },
      { replays: N },
    );
    const noop = await checked(server, { ...base, body: NOOP, connections: 1, amount: N }, {});
    const withWrapper = await load({ ...base, body: createIdentity(`r${r}-tput-%N%`), connections: 32, durationS: 3 });
    const withoutWrapper = await load({
      ...base,
      body: createIdentity(`r${r}-tbare-%N%`),
      connections: 32,
      durationS: 3,
      headers: BASELINE,
    });
    const before = await counter(server, "executions");
    const storm = await load({ ...base, body: createIdentity(`r${r}-storm`), connections: 200, amount: 200 });
    const stormExecutions = (await counter(server, "executions")) - before;
    const p50 = (result: PhaseResult) => percentile(result.latenciesMs, 50);
    const rps = (result: PhaseResult) => result.requests / result.durationS;
    rounds.push({
      first_p50_ms: p50(first),
      bare_p50_ms: p50(bare),
      replay_p50_ms: p50(replay),
      noop_p50_ms: p50(noop),
      overhead: p50(first) / p50(bare),
      replay_vs_first: p50(replay) / p50(first),
      replay_vs_noop: p50(replay) / p50(noop),
      rps_with: rps(withWrapper),
      rps_without: rps(withoutWrapper),
      throughput_ratio: rps(withWrapper) / rps(withoutWrapper),
      storm_executions: stormExecutions,
      storm_p99_ms: percentile(storm.latenciesMs, 99),
      non2xx: first.non2xx + bare.non2xx + replay.non2xx + noop.non2xx + withWrapper.non2xx + withoutWrapper.non2xx + storm.non2xx,
    });
    samples = {
      "first execution": first.latenciesMs,
      replay: replay.latenciesMs,
      "no-op query": noop.latenciesMs,
      "no wrapper": bare.latenciesMs,
    };
  }

  progress(`storing ${memoryOutcomes} outcomes, twice, for the memory figure`);
  const rssBefore = await rssMb(server.pid);
  await load({ ...base, body: createIdentity("mem-%N%"), connections: 32, amount: memoryOutcomes });
  const rssAfter = await rssMb(server.pid);
  await load({ ...base, body: createIdentity("mem-again-%N%"), connections: 32, amount: memoryOutcomes });
  const rssAfterTwice = await rssMb(server.pid);

  const summary: Record<string, number> = {};
  for (const name of Object.keys(rounds[0]!)) summary[name] = round(median(rounds.map((row) => row[name]!)));
  summary.storm_executions_max = Math.max(...rounds.map((row) => row.storm_executions!));
  return {
    summary,
    rounds,
    memory: {
      outcomes: memoryOutcomes,
      rss_before_mb: round(rssBefore, 1),
      rss_after_mb: round(rssAfter, 1),
      rss_after_twice_mb: round(rssAfterTwice, 1),
      growth_mb: round(rssAfter - rssBefore, 1),
      growth_second_mb: round(rssAfterTwice - rssAfter, 1),
    },
    samples,
  };
}

const results: Record<string, unknown> = { rounds: ROUNDS, requests_per_phase: N, node: process.version, when: new Date().toISOString() };
const plots: Record<string, Record<string, number[]>> = {};
try {
  for (const engine of args.engines!.split(",")) {
    process.stderr.write(`${engine}\n`);
    if (engine === "postgresql") {
      await adminSql("DROP DATABASE IF EXISTS onceql_bench WITH (FORCE)");
      await adminSql("CREATE DATABASE onceql_bench");
      const outcome = await benchEngine(
        engine,
        { DATABASE_URL: databaseUrlOnAdminServer("onceql_bench"), ONCEQL_ENCRYPTION_KEY: "00".repeat(32), ONCEQL_RATE_LIMIT: "0" },
        Number(args["memory-outcomes"]),
      );
      results[engine] = { ...outcome, samples: undefined };
      plots[engine] = outcome.samples;
      await adminSql("DROP DATABASE IF EXISTS onceql_bench WITH (FORCE)");
    } else {
      const dataDir = mkdtempSync(path.join(tmpdir(), "onceql-bench-"));
      try {
        // PGlite runs every query on one connection in the server's own process: a fifth of the outcomes.
        const outcome = await benchEngine(
          engine,
          { ONCEQL_DATA_DIR: dataDir, ONCEQL_RATE_LIMIT: "0" },
          Math.round(Number(args["memory-outcomes"]) / 5),
        );
        results[engine] = { ...outcome, samples: undefined };
        plots[engine] = outcome.samples;
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
  }
} finally {
  loader.kill();
}

const rows: string[][] = [["figure", "target", ...Object.keys(plots)]];
const value = (engine: string, name: string) => String((results[engine] as { summary: Record<string, number> }).summary[name]);
for (const [name, [op, target]] of Object.entries(TARGETS)) {
  rows.push([
    name,
    `${op} ${target}`,
    ...Object.keys(plots).map((engine) => {
      const v = Number(value(engine, name));
      return `${v}${(op === "<=" ? v <= target : v >= target) ? "" : " (missed)"}`;
    }),
  ]);
}
rows.push(["storm executions (200 at once, one key)", "= 1", ...Object.keys(plots).map((e) => value(e, "storm_executions_max"))]);
rows.push(["storm p99 ms", "", ...Object.keys(plots).map((e) => value(e, "storm_p99_ms"))]);
for (const name of ["first_p50_ms", "bare_p50_ms", "replay_p50_ms", "noop_p50_ms", "rps_with", "rps_without", "non2xx"]) {
  rows.push([name, "", ...Object.keys(plots).map((e) => value(e, name))]);
}
rows.push([
  "RSS growth MB: first N outcomes, next N (N)",
  "bounded",
  ...Object.keys(plots).map((e) => {
    const memory = (results[e] as { memory: { growth_mb: number; growth_second_mb: number; outcomes: number } }).memory;
    return `${memory.growth_mb}, ${memory.growth_second_mb} (${memory.outcomes})`;
  }),
]);
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
console.log(rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join("  ")).join("\n"));

writeFileSync(path.join(here, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
const plotEngine = plots.postgresql ? "postgresql" : Object.keys(plots)[0]!;
writeFileSync(
  path.join(here, "latency.svg"),
  latencyPlot(`createIdentity over HTTP on ${plotEngine}, one connection (last round)`, plots[plotEngine]!),
);
console.log("\nwrote bench/results.json and bench/latency.svg");
