// npm run bench:profile: where a request's CPU goes. Runs the benchmark's server on PostgreSQL,
// profiles it (the V8 profiler, started after the warm-up) while one connection sends first
// executions of createIdentity (or replays of them, or the cheapest authenticated query:
// --path first|replay|noop; or baseline: first executions without the wrapper), and prints the server's CPU time per request by where it was spent
// (self time, grouped by package or by folder of src/). Options: --requests (default 3000),
// --functions (the costliest functions too), --keep <file> (the .cpuprofile itself), --connections,
// --split (no profiler: the CPU per request of the server, PostgreSQL, the load generator and the
// whole machine, from /proc, over a timed phase).
import { execSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { adminSql, databaseUrlOnAdminServer } from "../scripts/postgres-admin.ts";
import { BASELINE_HEADER } from "./baseline-runner.ts";
import { load, loaderPid, requireClean, startBenchServer, stopBenchServer, stopLoader } from "./harness.ts";

const { values: args } = parseArgs({
  options: {
    requests: { type: "string", default: "3000" },
    /** Connections sending at once: 1 shows a request's own cost, 32 the cost under the throughput phase's load. */
    connections: { type: "string", default: "1" },
    path: { type: "string", default: "first" },
    /** Also list the functions that spent the most, with their file. */
    functions: { type: "boolean", default: false },
    /** Keeps the .cpuprofile here (open it in Chrome's DevTools, or speedscope), besides the summary. */
    keep: { type: "string" },
    /**
     * No profiler: instead, the CPU time per request of each process the phase keeps busy (the
     * server, PostgreSQL's processes, the load generator), read from /proc before and after.
     */
    split: { type: "boolean", default: false },
  },
});
const N = Number(args.requests);
const PATH = args.path as "first" | "replay" | "noop" | "baseline";

interface ProfileNode {
  id: number;
  callFrame: { url: string; functionName: string };
}

/** Where a sampled frame belongs: a package, a folder of src/, Node itself, or the VM. */
function categoryOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  const source = /\/(src\/[^/]+)/.exec(url);
  if (source) return source[1]!.replace(/\.ts$/, "");
  if (url.startsWith("node:")) return "node (internals)";
  return url.replace(/^file:\/\/.*\//, "");
}

/** CPU seconds (user + system) used so far by the server, every postgres process, and the load generator. */
function cpuByProcess(serverPid: number): {
  server: number;
  "server's main thread": number;
  postgres: number;
  "load generator": number;
} {
  const ticks = Number(execSync("getconf CLK_TCK", { encoding: "utf8" }));
  const seconds = (stat: string) => {
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / ticks;
  };
  const result = {
    server: 0,
    "server's main thread": 0,
    postgres: 0,
    "load generator": 0,
    "whole machine": 0,
    "of it, interrupts and steal": 0,
  };
  // The machine's own count: what no process is charged with (softirqs of loopback traffic, a hypervisor's steal) too.
  const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0]!.split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = cpu as [number, number, number, number, number, number, number, number];
  result["whole machine"] = (user + nice + system + irq + softirq + steal) / ticks;
  result["of it, interrupts and steal"] = (irq + softirq + steal) / ticks;
  // The main thread runs the JavaScript (the server's limit under load); the others are libuv's and V8's (GC).
  result["server's main thread"] = seconds(readFileSync(`/proc/${serverPid}/task/${serverPid}/stat`, "utf8"));
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue;
    }
    const name = /\((.*)\)/.exec(stat)![1]!;
    const pid = Number(entry);
    if (pid === serverPid) result.server += seconds(stat);
    else if (name.startsWith("postgres")) result.postgres += seconds(stat);
    else if (pid === loaderPid()) result["load generator"] += seconds(stat);
  }
  return result;
}

const dir = mkdtempSync(path.join(tmpdir(), "onceql-profile-"));
const file = path.join(dir, "server.cpuprofile");
await adminSql("DROP DATABASE IF EXISTS onceql_profile WITH (FORCE)");
await adminSql("CREATE DATABASE onceql_profile");
try {
  const env = {
    DATABASE_URL: databaseUrlOnAdminServer("onceql_profile"),
    ONCEQL_ENCRYPTION_KEY: "00".repeat(32),
    ONCEQL_RATE_LIMIT: "0",
    BENCH_PROFILE: file,
  };
  const server = await startBenchServer(env);
  const createIdentity = JSON.stringify({
    query:
      "mutation($input: CreateIdentityInput!) { createIdentity(input: $input) { __typename ... on CreateIdentityPayload { identity { id externalId } } } }",
    variables: { input: { clientMutationId: "profile-%N%", externalId: "profile-%N%" } },
  });
  const noop = JSON.stringify({ query: "{ workspace { id } }" });
  const base = { url: server.url, token: server.token, connections: Number(args.connections) };
  await load({ ...base, body: createIdentity.replaceAll("profile-", "warm-"), amount: 500 });
  await load({ ...base, body: noop, amount: 500 });
  // A replay needs a first execution to replay: made before the profiler starts.
  if (PATH === "replay") await load({ ...base, body: createIdentity, amount: N });
  if (!args.split) process.kill(server.pid, "SIGHUP");
  await sleep(200);
  const before = args.split ? cpuByProcess(server.pid) : undefined;
  // Split: a timed phase (autocannon ends an amount on its next one-second tick), its requests counted.
  const size = args.split ? { durationS: Math.max(3, Math.round(N / 1000)) } : { amount: N };
  const measured = requireClean(
    await load(
      PATH === "noop"
        ? { ...base, body: noop, ...size, expectText: '"workspace"' }
        : {
            ...base,
            body: createIdentity,
            ...size,
            expectText: '"CreateIdentityPayload"',
            // Replays: of the N keys executed before, over and over for a timed phase.
            ...(PATH === "replay" && { cycle: N }),
            ...(PATH === "baseline" && { headers: { [BASELINE_HEADER]: "1" } }),
          },
    ),
  );
  if (before) {
    const after = cpuByProcess(server.pid);
    const n = measured.requests;
    console.log(
      `CPU per request over ${n} ${PATH} requests, ${args.connections} connection(s), PostgreSQL (no profiler), ${(n / measured.durationS).toFixed(0)} requests/s:`,
    );
    for (const name of Object.keys(after) as (keyof typeof after)[]) {
      console.log(`${(((after[name] - before[name]) * 1e6) / n).toFixed(0).padStart(6)} µs  ${name}`);
    }
    await stopBenchServer(server);
    process.exit(0);
  }
  process.kill(server.pid, "SIGHUP");
  for (let i = 0; i < 50 && !existsSync(file); i++) await sleep(100);
  await stopBenchServer(server);
} finally {
  stopLoader();
  await adminSql("DROP DATABASE IF EXISTS onceql_profile WITH (FORCE)");
}

if (args.keep) copyFileSync(file, args.keep);
const profile = JSON.parse(readFileSync(file, "utf8")) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
rmSync(dir, { recursive: true, force: true });
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const byCategory = new Map<string, number>();
for (const [i, id] of profile.samples.entries()) {
  const node = byId.get(id)!;
  const category = categoryOf(node.callFrame.url, node.callFrame.functionName);
  byCategory.set(category, (byCategory.get(category) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const busy = [...byCategory].filter(([category]) => category !== "(idle)").reduce((sum, [, us]) => sum + us, 0);
const label = {
  first: "first executions of createIdentity",
  baseline: "first executions of createIdentity without the wrapper (the baseline)",
  replay: "replays of createIdentity",
  noop: "no-op queries ({ workspace { id } })",
}[PATH];
console.log(`server CPU over ${N} ${label}, ${args.connections} connection(s), PostgreSQL: ${(busy / N).toFixed(0)} µs per request`);
for (const [category, us] of [...byCategory]
  .filter(([c]) => c !== "(idle)")
  .sort((a, b) => b[1] - a[1])
  .slice(0, 16)) {
  console.log(`${((100 * us) / busy).toFixed(1).padStart(5)} %  ${(us / N).toFixed(0).padStart(4)} µs  ${category}`);
}

if (args.functions) {
  const byFunction = new Map<string, number>();
  for (const [i, id] of profile.samples.entries()) {
    const { url, functionName } = byId.get(id)!.callFrame;
    const name = `${functionName || "(anonymous)"}  ${categoryOf(url, functionName)}  ${url.replace(/^.*node_modules\//, "").slice(0, 70)}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  console.log("\nfunctions (self time):");
  for (const [name, us] of [...byFunction]
    .filter(([n]) => !n.startsWith("(idle)"))
    .sort((a, b) => b[1] - a[1])
    .slice(0, 40)) {
    console.log(`${(us / N).toFixed(1).padStart(7)} µs  ${name}`);
  }
}
