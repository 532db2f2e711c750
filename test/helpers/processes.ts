import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");

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
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, entry), ...args], {
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

export interface ServerProcess extends Spawned {
  url: string;
  devToken: string | undefined;
  stop(): Promise<number | null>;
}

/** Starts the server as `npm start` does and waits until it prints where it listens. */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const spawned = spawnEntry("src/server.ts", [], env);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const match = /GraphiQL at (http:\/\/\S+)\/graphql/.exec(spawned.output());
    if (match && (env.DATABASE_URL || /oq_ws_\S+/.test(spawned.output()))) {
      return {
        ...spawned,
        url: match[1]!,
        devToken: /(oq_ws_\S+)/.exec(spawned.output())?.[1],
        stop: async () => {
          spawned.child.kill("SIGTERM");
          return spawned.exited;
        },
      };
    }
    if (spawned.child.exitCode !== null || Date.now() > deadline) {
      spawned.child.kill("SIGKILL");
      throw new Error(`server did not start:\n${spawned.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function postGraphQL(url: string, token: string, query: string, variables?: unknown) {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}
