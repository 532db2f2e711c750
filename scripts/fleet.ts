import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const root = path.resolve(import.meta.dirname, "..");

export interface Spawned {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/**
 * Runs one of the project's entry points (src/server.ts, src/cli.ts) as its own process: node
 * itself with tsx's loader, so a signal reaches the program and not a wrapper around it.
 */
export function spawnEntry(entry: string, args: string[], env: Record<string, string>): Spawned {
  const child = spawn(process.execPath, ["--conditions=onceql-source", "--import", "tsx", path.join(root, entry), ...args], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: "warn", PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** A free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/**
 * One onceql server process on a fixed port (src/server.ts under node with tsx's loader, so a
 * signal reaches the server itself), that can be killed and started again on the same port.
 */
export class ServerProcess {
  private spawned: Spawned | undefined;
  kills = 0;

  private constructor(
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  static async start(env: Record<string, string>): Promise<ServerProcess> {
    const server = new ServerProcess(await freePort(), env);
    await server.restart();
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  log(): string {
    return this.spawned?.output() ?? "";
  }

  async restart(): Promise<void> {
    const spawned = spawnEntry("src/server.ts", [], { ...this.env, PORT: String(this.port) });
    this.spawned = spawned;
    const deadline = Date.now() + 30_000;
    while (!/GraphiQL at/.test(spawned.output())) {
      if (spawned.child.exitCode !== null || Date.now() > deadline) throw new Error(`server did not start:\n${spawned.output()}`);
      await sleep(25);
    }
  }

  /** SIGKILL: no shutdown, no flush, transactions cut wherever they were. */
  async kill(): Promise<void> {
    if (await this.signal("SIGKILL")) this.kills++;
  }

  async stop(): Promise<void> {
    await this.signal("SIGTERM");
  }

  /** Sends `signal` and waits for the process to exit; false when it was not running. */
  private async signal(signal: NodeJS.Signals): Promise<boolean> {
    const child = this.spawned?.child;
    if (!child || child.exitCode !== null) return false;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill(signal);
    await exited;
    return true;
  }
}
