// npm run failover -- --mode async|sync|both --seconds 20: a real primary and streaming replica
// (scripts/pg-replicas.ts, throwaway clusters on loopback ports), two onceql servers whose
// DATABASE_URL is a TCP proxy in front of the primary, and SDK clients at their defaults sending
// createKey, creditWallet and createIdentity with fresh keys. Half way, the replica is cut off from
// the primary (as a lagging or partitioned replica is) for --lag-ms, the primary crashes
// (pg_ctl stop -m immediate), the replica is promoted and the proxy sent to it; the load goes on.
// Then every key is sent again, with the same input, to both servers, and the audit says per mode:
// calls answered as successful whose effect is not on the new primary (lost), keys the two servers
// answer differently (disagreements), keys with two rows (twice), and whether the ledger verifies.
// Exits 1 when a synchronous run lost anything, or any run disagreed, ran twice or broke the ledger.
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { createClient, type OnceqlClient } from "@onceql/client";
import pg from "pg";
import { createWorkspace } from "../src/auth/workspaces.ts";
import { openDatabase } from "../src/db/database.ts";
import { applyMigrations } from "../src/db/migrations.ts";
import { verifyLedger } from "../src/domains/ledger/ledger.verify.ts";
import { startIssuerSimulator } from "../src/issuer-simulator/server.ts";
import { type Answer, type Call, callOnce, KINDS } from "./failover-load.ts";
import { freePort, ServerProcess } from "./fleet.ts";
import { ReplicaPair } from "./pg-replicas.ts";
import { startTcpProxy } from "./tcp-proxy.ts";

const { values: args } = parseArgs({
  options: {
    mode: { type: "string", default: "both" },
    seconds: { type: "string", default: "20" },
    clients: { type: "string", default: "6" },
    "lag-ms": { type: "string", default: "1000" },
  },
});
if (!["async", "sync", "both"].includes(args.mode!)) throw new Error("--mode is async, sync or both");
const modes = args.mode === "both" ? ["async", "sync"] : [args.mode!];
const seconds = Number(args.seconds);
const lagMs = Number(args["lag-ms"]);

/** Undone in reverse order at the end of a run, on an error, and on SIGINT or SIGTERM. */
const cleanups: (() => Promise<unknown>)[] = [];
async function cleanUp(): Promise<void> {
  while (cleanups.length > 0) await cleanups.pop()!().catch((error) => process.stderr.write(`cleanup: ${error}\n`));
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    process.stderr.write(`failover: ${signal}, cleaning up\n`);
    cleanUp().finally(() => process.exit(130));
  });
}

interface Report {
  mode: string;
  calls: number;
  answered: number;
  lost: number;
  ranAgain: number;
  disagreements: number;
  twice: number;
  ledgerVerified: boolean;
  cacheResets: number[];
}

async function runMode(mode: string): Promise<Report> {
  const [primaryPort, replicaPort] = [await freePort(), await freePort()];
  // Both proxies are built before the clusters: replication goes through one, so that it can be cut.
  const replicationTarget = { host: "127.0.0.1", port: primaryPort };
  const replication = await startTcpProxy(replicationTarget);
  cleanups.push(() => replication.close());
  // The proxy reads its target's port for every new connection: changing it moves new connections.
  const databaseTarget = { host: "127.0.0.1", port: primaryPort };
  const proxy = await startTcpProxy(databaseTarget);
  cleanups.push(() => proxy.close());
  const pair = await ReplicaPair.create({
    primaryPort,
    replicaPort,
    replicationVia: { host: "127.0.0.1", port: replication.port },
    synchronous: mode === "sync",
  });
  cleanups.push(() => pair.destroy());
  await pair.start();
  await pair.primarySql("CREATE DATABASE onceql");
  const setupDb = await openDatabase({ databaseUrl: pair.url(primaryPort, "onceql"), poolSize: 2 });
  await applyMigrations(setupDb.adapterFactory);
  const { token } = await createWorkspace(setupDb.prisma, "failover");
  await setupDb.close();

  const issuer = await startIssuerSimulator({});
  cleanups.push(() => issuer.close());
  const env = {
    DATABASE_URL: pair.url(proxy.port, "onceql"),
    ONCEQL_ISSUER_URL: issuer.url,
    ONCEQL_ENCRYPTION_KEY: randomBytes(32).toString("hex"),
    ONCEQL_RATE_LIMIT: "0",
  };
  // Registered before they are up, so that a signal during their start still stops them.
  const starting = [ServerProcess.start(env), ServerProcess.start(env)];
  cleanups.push(() =>
    Promise.all(
      starting.map((started) =>
        started.then(
          (server) => server.stop(),
          () => {},
        ),
      ),
    ),
  );
  const servers = await Promise.all(starting);
  const clients: OnceqlClient[] = servers.map((server) => createClient({ url: `${server.url}/graphql`, token }));
  const wallet = await clients[0]!.CreateWallet({ input: { name: "failover" } });
  if (wallet.data.createWallet?.__typename !== "CreateWalletPayload") throw new Error("setup failed: createWallet");
  const walletId = wallet.data.createWallet.wallet.id;

  const calls: Call[] = [];
  const deadline = Date.now() + seconds * 1_000;
  const worker = async (id: number) => {
    for (let n = 0; Date.now() < deadline; n++) {
      const call: Call = { key: `failover-${mode}-${id}-${n}`, kind: KINDS[(id + n) % KINDS.length]!, walletId };
      calls.push(call);
      call.first = await callOnce(clients[(id + n) % clients.length]!, call);
    }
  };
  const failover = async () => {
    await sleep((seconds * 1_000) / 2);
    // The replica hears nothing more; asynchronous commits are still answered, synchronous ones wait.
    replication.silence();
    await sleep(lagMs);
    proxy.refuse();
    await pair.crashPrimary();
    proxy.cut();
    await pair.promoteReplica();
    databaseTarget.port = replicaPort;
    proxy.restore();
    process.stderr.write(`failover (${mode}): primary crashed ${lagMs} ms after the replica was cut off; replica promoted\n`);
  };
  process.stderr.write(`failover (${mode}): ${seconds}s of load from ${args.clients} clients on two servers\n`);
  await Promise.all([failover(), ...Array.from({ length: Number(args.clients) }, (_, id) => worker(id))]);

  // Lost: answered as successful, and the effect is not on the new primary. Counted before any resend.
  const audit = new pg.Client({ connectionString: pair.url(replicaPort, "onceql") });
  await audit.connect();
  cleanups.push(() => audit.end());
  const rows = async (sql: string, key: string) => Number((await audit.query<{ n: number }>(sql, [key])).rows[0]!.n);
  const effectRows = (call: Call) =>
    rows(
      call.kind === "createKey"
        ? "SELECT count(*)::int AS n FROM api_keys WHERE name = $1"
        : call.kind === "createIdentity"
          ? "SELECT count(*)::int AS n FROM identities WHERE external_id = $1"
          : "SELECT count(*)::int AS n FROM ledger_transactions WHERE metadata->>'key' = $1",
      call.key,
    );
  const answered = calls.filter((call) => call.first?.ok);
  let lost = 0;
  for (const call of answered) if ((await effectRows(call)) === 0) lost++;

  // Every key again, same input, to each server in turn; their answers must be the same.
  let disagreements = 0;
  let ranAgain = 0;
  const queue = [...calls];
  const resend = async () => {
    for (let call = queue.shift(); call; call = queue.shift()) {
      const answers: Answer[] = [];
      for (const client of clients) answers.push(await callOnce(client, call));
      if (answers.some((answer) => answer.digest !== answers[0]!.digest)) disagreements++;
      if (call.first?.ok && answers[0]!.digest !== call.first.digest) ranAgain++;
    }
  };
  await Promise.all(Array.from({ length: 4 }, resend));
  let twice = 0;
  for (const call of calls) if ((await effectRows(call)) > 1) twice++;
  const auditDb = await openDatabase({ databaseUrl: pair.url(replicaPort, "onceql"), poolSize: 2 });
  const ledgerVerified = (await verifyLedger(auditDb.prisma)).ok;
  await auditDb.close();
  const cacheResets = await Promise.all(servers.map((server) => cacheResetsOf(server.url)));
  const report = {
    mode,
    calls: calls.length,
    answered: answered.length,
    lost,
    ranAgain,
    disagreements,
    twice,
    ledgerVerified,
    cacheResets,
  };
  await cleanUp();
  return report;
}

async function cacheResetsOf(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return [...text.matchAll(/^onceql_idempotency_cache_resets_total(?:\{[^}]*\})? (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

const reports: Report[] = [];
try {
  for (const mode of modes) reports.push(await runMode(mode));
} finally {
  await cleanUp();
}
for (const r of reports) {
  console.log(
    `${r.mode}: ${r.calls} calls (${r.answered} answered as successful), lost ${r.lost} (answered, then gone; ${r.ranAgain} ran again when sent again), ` +
      `disagreements ${r.disagreements}, twice ${r.twice}, ledger ${r.ledgerVerified ? "verified" : "NOT verified"}, ` +
      `cache resets per server ${r.cacheResets.join("/")}`,
  );
}
const bad = reports.some((r) => (r.mode === "sync" && r.lost > 0) || r.disagreements > 0 || r.twice > 0 || !r.ledgerVerified);
process.exit(bad ? 1 : 0);
