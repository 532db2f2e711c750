// The server under benchmark: what `npm start` serves, plus a second app over the same database
// that runs each mutation's resolver without the idempotency wrapper (the baseline), answering
// requests that carry BASELINE_HEADER. A debit needs a transaction of its own to be correct (it locks,
// reads, then writes), so the baseline gives it one; createIdentity is one autocommit INSERT. Prints one JSON line with its URL and a workspace token.
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import pino from "pino";
import { createApp } from "../src/app.ts";
import { createWorkspace } from "../src/auth/workspaces.ts";
import { loadConfig } from "../src/config.ts";
import { startIssuerSimulator } from "../src/issuer-simulator/server.ts";
import { closeHttp, listen, openResources, urlOf } from "../src/server.ts";
import { BASELINE_HEADER, WithoutIdempotency } from "./baseline-runner.ts";

const logger = pino({ level: "silent" });
// The card issuer: a simulator of this process on loopback, as `npm start` runs it, unless one is given.
const issuer = process.env.ONCEQL_ISSUER_URL ? undefined : await startIssuerSimulator();
const config = { ...loadConfig(), ...(issuer && { issuerUrl: issuer.url }) };
const { db, encryptionKeys: encryptionKey } = await openResources(config, logger);
const app = createApp({ config, db, logger, encryptionKey });
const baseline = createApp({
  config,
  db,
  logger,
  encryptionKey,
  mutationRunner: new WithoutIdempotency(db.prisma, db.sql, new Set(["debitWallet"])),
});
const http = await listen((request, response) => (request.headers[BASELINE_HEADER] ? baseline : app).yoga(request, response), config);
const { token } = await createWorkspace(db.prisma, "bench");
console.log(JSON.stringify({ url: urlOf(http, config), token, pid: process.pid }));
process.once("SIGTERM", async () => {
  await closeHttp(http);
  await Promise.all([app.close(), baseline.close()]);
  await db.close();
  await issuer?.close();
  process.exit(0);
});
// With BENCH_PROFILE set: SIGHUP starts the CPU profiler, the next SIGHUP writes its profile
// there (bench/profile.ts profiles one phase, not the start or the warm-up).
if (process.env.BENCH_PROFILE) {
  const session = new Session();
  session.connect();
  let profiling = false;
  process.on("SIGHUP", () => {
    if (!profiling) {
      profiling = true;
      session.post("Profiler.enable", () => session.post("Profiler.start"));
      return;
    }
    session.post("Profiler.stop", (error, result) => {
      if (!error) writeFileSync(process.env.BENCH_PROFILE!, JSON.stringify(result.profile));
      profiling = false;
    });
  });
}
// Started with --expose-gc: the benchmark reads resident memory after a full collection.
process.on("SIGUSR2", () => (globalThis as { gc?: () => void }).gc?.());
