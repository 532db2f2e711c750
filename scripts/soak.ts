// npm run soak -- --seconds 60: mixed mutations from many SDK clients against three servers on
// one PostgreSQL database while faults are injected (servers killed with SIGKILL and restarted,
// their database connections terminated), then an audit of the database: every operation has
// exactly one effect. Prints a summary; exits 1 when anything was duplicated or lost.
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import pg from "pg";
import { createWorkspace } from "../src/auth/workspaces.ts";
import { openDatabase } from "../src/db/database.ts";
import { applyMigrations } from "../src/db/migrations.ts";
import { createClient, type OnceqlClient } from "../src/index.ts";
import { ServerProcess } from "./fleet.ts";
import { adminSql, databaseUrlOnAdminServer } from "./postgres-admin.ts";

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string", default: "60" },
    clients: { type: "string", default: "12" },
    servers: { type: "string", default: "3" },
  },
});
const seconds = Number(args.seconds);
const dbName = `onceql_soak_${randomBytes(4).toString("hex")}`;

/** One unit of work: a mutation with its own key, and how to count its effect afterwards. */
interface Operation {
  key: string;
  kind: "createKey" | "createIdentity" | "updateKey";
  attempts: number;
  done: boolean;
}

await adminSql(`CREATE DATABASE ${dbName}`);
const databaseUrl = databaseUrlOnAdminServer(dbName);
const db = await openDatabase({ databaseUrl, poolSize: 2 });
await applyMigrations(db.adapterFactory);
const { token } = await createWorkspace(db.prisma, "soak");
const env = {
  DATABASE_URL: databaseUrl,
  ONCEQL_ENCRYPTION_KEY: randomBytes(32).toString("hex"),
  ONCEQL_IDEMPOTENCY_LEASE_MS: "3000",
  ONCEQL_IDEMPOTENCY_WAIT_MS: "500",
  ONCEQL_RATE_LIMIT: "0",
};
const servers = await Promise.all(Array.from({ length: Number(args.servers) }, () => ServerProcess.start(env)));
const faults = { kills: 0, connectionsTerminated: 0 };
const operations: Operation[] = [];
const deadline = Date.now() + seconds * 1_000;
let running = true;

const clients: OnceqlClient[] = servers.map((server) =>
  createClient({ url: `${server.url}/graphql`, token, maxAttempts: 400, baseDelayMs: 25, maxDelayMs: 1_000 }),
);
const setup = await clients[0]!.CreateKey({ input: { name: "soak-target" } });
if (setup.data.createKey?.__typename !== "CreateKeyPayload") throw new Error("setup failed");
const targetKeyId = setup.data.createKey.key.id;

async function worker(id: number): Promise<void> {
  for (let n = 0; Date.now() < deadline; n++) {
    const client = clients[(id + n) % clients.length]!;
    const kind = (["createKey", "createIdentity", "updateKey"] as const)[n % 3]!;
    const operation: Operation = { key: `soak-${id}-${n}`, kind, attempts: 0, done: false };
    operations.push(operation);
    const result = await attempt(
      kind === "createKey"
        ? client.CreateKey({ input: { clientMutationId: operation.key, name: operation.key, externalId: `soak-owner-${n % 7}` } })
        : kind === "createIdentity"
          ? client.CreateIdentity({ input: { clientMutationId: operation.key, externalId: operation.key } })
          : client.UpdateKey({ input: { clientMutationId: operation.key, keyId: targetKeyId, externalId: operation.key } }),
    );
    operation.attempts = result.attempts;
    operation.done = result.ok;
  }
}

/** The client retries by itself; one that still gives up is reported, not fatal. */
async function attempt(call: Promise<{ attempts: number }>): Promise<{ attempts: number; ok: boolean }> {
  try {
    return { attempts: (await call).attempts, ok: true };
  } catch (error) {
    return { attempts: (error as { attempts?: number }).attempts ?? 1, ok: false };
  }
}

async function chaos(): Promise<void> {
  const terminator = new pg.Client({ connectionString: databaseUrl });
  await terminator.connect();
  try {
    while (running) {
      await sleep(1_000 + Math.random() * 2_000);
      if (!running) break;
      if (Math.random() < 0.5) {
        const server = servers[Math.floor(Math.random() * servers.length)]!;
        await server.kill();
        faults.kills++;
        await sleep(200 + Math.random() * 800);
        await server.restart();
      } else {
        const { rowCount } = await terminator.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND random() < 0.5",
          [dbName],
        );
        faults.connectionsTerminated += rowCount ?? 0;
      }
    }
  } finally {
    await terminator.end();
  }
}

process.stderr.write(`soak: ${seconds}s, ${args.clients} clients, ${servers.length} servers on ${dbName}\n`);
const chaosDone = chaos();
try {
  await Promise.all(Array.from({ length: Number(args.clients) }, (_, id) => worker(id)));
} finally {
  running = false;
  await chaosDone;
}

// The audit: each operation's effect, counted in the database.
let duplicated = 0;
let lost = 0;
const count = async (sql: string, params: unknown[]) => Number((await db.bookkeeping.query<{ n: number }>(sql, params)).rows[0]!.n);
for (const operation of operations) {
  const effects =
    operation.kind === "createKey"
      ? await count("SELECT count(*)::int AS n FROM api_keys WHERE name = $1", [operation.key])
      : await count("SELECT count(*)::int AS n FROM identities WHERE external_id = $1", [operation.key]);
  if (effects > 1) duplicated++;
  // Lost: the client was told it happened, and it did not.
  if (effects === 0 && operation.done) lost++;
}
const unacknowledged = operations.filter((op) => !op.done).length;
const owners = await count("SELECT count(*)::int AS n FROM identities WHERE external_id LIKE 'soak-owner-%'", []);
if (owners > 7) duplicated += owners - 7;
const stuck = await count(
  "SELECT count(*)::int AS n FROM idempotency_records WHERE status = 'IN_PROGRESS' AND lease_expires_at < now()",
  [],
);
const summary = {
  seconds,
  operations: operations.length,
  requestsSent: operations.reduce((sum, op) => sum + op.attempts, 0),
  faultsInjected: faults.kills + faults.connectionsTerminated,
  serverKills: faults.kills,
  connectionsTerminated: faults.connectionsTerminated,
  keysRetried: operations.filter((op) => op.attempts > 1).length,
  operationsNeverAcknowledged: unacknowledged,
  effectsDuplicated: duplicated,
  effectsLost: lost,
  keysStuckPastLease: stuck,
};
console.log(JSON.stringify(summary, null, 2));

await Promise.all(servers.map((server) => server.stop()));
await db.close();
await adminSql(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
process.exit(duplicated === 0 && lost === 0 && stuck === 0 && unacknowledged === 0 ? 0 : 1);
