// npm run bench:profile: where a first execution's CPU goes. Runs the benchmark's server under
// `node --cpu-prof` on PostgreSQL, sends it first executions of createIdentity from one connection,
// and prints the server's CPU time by where it was spent (self time, grouped by package or by
// folder of src/). Options: --requests (default 3000), --mutation identity|debit.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { adminSql, databaseUrlOnAdminServer } from "../scripts/postgres-admin.ts";
import { load, requireClean, startBenchServer, stopBenchServer, stopLoader } from "./harness.ts";

const { values: args } = parseArgs({ options: { requests: { type: "string", default: "3000" } } });
const N = Number(args.requests);

interface ProfileNode {
  id: number;
  callFrame: { url: string; functionName: string };
  hitCount?: number;
  children?: number[];
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

const profileDir = mkdtempSync(path.join(tmpdir(), "onceql-profile-"));
await adminSql("DROP DATABASE IF EXISTS onceql_profile WITH (FORCE)");
await adminSql("CREATE DATABASE onceql_profile");
try {
  const env = { DATABASE_URL: databaseUrlOnAdminServer("onceql_profile"), ONCEQL_ENCRYPTION_KEY: "00".repeat(32), ONCEQL_RATE_LIMIT: "0" };
  const server = await startBenchServer(env, ["--cpu-prof", `--cpu-prof-dir=${profileDir}`, "--cpu-prof-interval=200"]);
  const body = JSON.stringify({
    query:
      "mutation($input: CreateIdentityInput!) { createIdentity(input: $input) { __typename ... on CreateIdentityPayload { identity { id externalId } } } }",
    variables: { input: { clientMutationId: "profile-%N%", externalId: "profile-%N%" } },
  });
  const base = { url: server.url, token: server.token };
  await load({ ...base, body: body.replaceAll("profile-", "warm-"), connections: 1, amount: 500 });
  requireClean(await load({ ...base, body, connections: 1, amount: N, expectText: '"CreateIdentityPayload"' }));
  await stopBenchServer(server);
} finally {
  stopLoader();
  await adminSql("DROP DATABASE IF EXISTS onceql_profile WITH (FORCE)");
}

const file = readdirSync(profileDir).find((name) => name.endsWith(".cpuprofile"));
if (!file) throw new Error("the server wrote no CPU profile");
const profile = JSON.parse(readFileSync(path.join(profileDir, file), "utf8")) as {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
};
rmSync(profileDir, { recursive: true, force: true });
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const microseconds = new Map<number, number>();
for (const [i, id] of profile.samples.entries()) microseconds.set(id, (microseconds.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
const byCategory = new Map<string, number>();
for (const [id, us] of microseconds) {
  const node = byId.get(id)!;
  const category = categoryOf(node.callFrame.url, node.callFrame.functionName);
  byCategory.set(category, (byCategory.get(category) ?? 0) + us);
}
const busy = [...byCategory].filter(([category]) => category !== "(idle)").reduce((sum, [, us]) => sum + us, 0);
console.log(
  `server CPU over ${N} first executions of createIdentity on PostgreSQL: ${(busy / 1000).toFixed(0)} ms busy, ${(busy / N).toFixed(0)} µs per request`,
);
for (const [category, us] of [...byCategory]
  .filter(([c]) => c !== "(idle)")
  .sort((a, b) => b[1] - a[1])
  .slice(0, 18)) {
  console.log(`${((100 * us) / busy).toFixed(1).padStart(5)} %  ${(us / N).toFixed(0).padStart(4)} µs/request  ${category}`);
}
