import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ensureBuilt } from "./ensure-built.mjs";

const root = path.resolve(import.meta.dirname, "..");

export interface Spawned {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/**
 * Node's own TypeScript support turned off where it has one (Node 22.6 and later; Node 20 has none):
 * what runs from dist/ is JavaScript, and nothing else could run there unnoticed.
 */
const noTypeScript = process.allowedNodeEnvironmentFlags.has("--no-experimental-strip-types") ? ["--no-experimental-strip-types"] : [];

/**
 * The command line that runs `entry`: a command of the app (src/server.ts, the server, whose command
 * is src/main.ts; src/cli.ts; src/issuer-simulator/main.ts) from its bundle in dist/ (dist/server.js,
 * dist/cli.js, dist/issuer-simulator/main.js), as `npm start` does, built first
 * when dist/ is missing or older than its sources (so a stale build is never what runs); anything
 * JavaScript already in dist/ (the bench's compiled servers) as it is; anything else (examples, test
 * helpers) from its TypeScript with tsx's loader.
 */
export function entryArgs(entry: string): string[] {
  if (entry.startsWith("dist/") && entry.endsWith(".js")) return [...noTypeScript, path.join(root, entry)];
  if (entry.startsWith("src/") && entry.endsWith(".ts")) {
    ensureBuilt();
    return [...noTypeScript, path.join(root, "dist", `${entry.slice("src/".length, -".ts".length)}.js`)];
  }
  return ["--conditions=onceql-source", "--import", "tsx", path.join(root, entry)];
}

/**
 * Runs one of the project's entry points (src/server.ts, src/cli.ts) as its own process: node
 * itself, on the compiled JavaScript (see entryArgs), so a signal reaches the program and not a
 * wrapper around it.
 */
export function spawnEntry(entry: string, args: string[], env: Record<string, string>, nodeArgs: string[] = []): Spawned {
  return spawnNode([...nodeArgs, ...entryArgs(entry), ...args], env);
}

/** node with these arguments, as spawnEntry runs an entry: its output kept, its exit awaited. */
export function spawnNode(argv: string[], env: Record<string, string>): Spawned {
  const child = spawn(process.execPath, argv, {
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
 * One onceql server process on a fixed port (dist/server.js under node, so a signal reaches the
 * server itself), that can be killed and started again on the same port.
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
    while (!/GraphQL (?:and GraphiQL )?at/.test(spawned.output())) {
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

  /** Sends SIGTERM without waiting: its exit code once it has shut down (null when it was not running). */
  terminate(): Promise<number | null> {
    const spawned = this.spawned;
    if (!spawned || spawned.child.exitCode !== null) return Promise.resolve(null);
    spawned.child.kill("SIGTERM");
    return spawned.exited;
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
