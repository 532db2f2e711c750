// The server under benchmark: what `npm start` runs, plus the switch that lets a request skip the
// idempotency wrapper (the baseline). Prints one JSON line with its URL and a workspace token.
import pino from "pino";
import { createWorkspace } from "../src/auth/workspaces.ts";
import { loadConfig } from "../src/config.ts";
import { startServer } from "../src/server.ts";

const server = await startServer({ config: loadConfig(), logger: pino({ level: "silent" }), allowBenchmarkBypass: true });
const { token } = await createWorkspace(server.db.prisma, "bench");
console.log(JSON.stringify({ url: server.url, token, pid: process.pid }));
process.once("SIGTERM", () => server.close().then(() => process.exit(0)));
// Started with --expose-gc: the benchmark reads resident memory after a full collection.
process.on("SIGUSR2", () => (globalThis as { gc?: () => void }).gc?.());
