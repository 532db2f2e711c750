import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./fleet.ts";

const BINARY = "/usr/sbin/pgbouncer";

export interface PgBouncer {
  mode: "session" | "transaction";
  port: number;
  /** `url` (a PostgreSQL URL on 127.0.0.1:5432) through this PgBouncer instead. */
  through(url: string): string;
  stop(): Promise<void>;
}

/**
 * Whether Debian's PgBouncer is here, installing it when it is not (as `.ci/run` does): root and
 * Debian's packages are what these machines have. False, said loudly, where it cannot be.
 */
export function pgbouncerAvailable(): boolean {
  if (existsSync(BINARY)) return true;
  try {
    execFileSync("apt-get", ["install", "-y", "-qq", "pgbouncer"], {
      stdio: "ignore",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      timeout: 180_000,
    });
  } catch {
    // Said below.
  }
  if (existsSync(BINARY)) return true;
  if (process.env.CI || process.env.ONCEQL_REQUIRE_POSTGRES)
    throw new Error(`PgBouncer is required here and ${BINARY} could not be installed`);
  console.warn(`\n  !! PgBouncer tests SKIPPED: ${BINARY} is missing (apt-get install pgbouncer)\n`);
  return false;
}

/**
 * A PgBouncer of its own on a free port, in front of the PostgreSQL at 127.0.0.1:5432, with
 * Debian's defaults but for the pool mode, and trust authentication as the server has.
 * `ignoreStartupOptions`: `ignore_startup_parameters = options`, as deployments set it.
 */
export async function startPgBouncer(options: {
  mode: "session" | "transaction";
  poolSize?: number;
  ignoreStartupOptions?: boolean;
}): Promise<PgBouncer> {
  const dir = mkdtempSync(path.join(tmpdir(), "onceql-pgbouncer-"));
  chmodSync(dir, 0o777);
  const port = await freePort();
  const config = path.join(dir, "pgbouncer.ini");
  writeFileSync(path.join(dir, "users.txt"), '"postgres" ""\n');
  writeFileSync(
    config,
    [
      "[databases]",
      "* = host=127.0.0.1 port=5432",
      "[pgbouncer]",
      "listen_addr = 127.0.0.1",
      `listen_port = ${port}`,
      "unix_socket_dir =",
      "auth_type = trust",
      `auth_file = ${path.join(dir, "users.txt")}`,
      `pool_mode = ${options.mode}`,
      "max_client_conn = 500",
      `default_pool_size = ${options.poolSize ?? 20}`,
      ...(options.ignoreStartupOptions ? ["ignore_startup_parameters = options"] : []),
      "",
    ].join("\n"),
  );
  for (const file of ["pgbouncer.ini", "users.txt"]) chmodSync(path.join(dir, file), 0o644);
  // PgBouncer refuses to run as root: -u drops to the postgres user.
  const args = process.getuid?.() === 0 ? ["-u", "postgres", config] : [config];
  const child: ChildProcess = spawn(BINARY, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`PgBouncer did not start: ${stderr}`);
    }
    await sleep(50);
  }
  return {
    mode: options.mode,
    port,
    through(url) {
      const pooled = new URL(url);
      pooled.port = String(port);
      return pooled.toString();
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGINT");
        await Promise.race([exited, sleep(5_000)]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
