import { connect, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { type Spawned, spawnEntry } from "../../scripts/fleet.ts";

export { spawnEntry };

export interface ServerProcess extends Spawned {
  url: string;
  devToken: string | undefined;
  stop(): Promise<number | null>;
}

/** Starts the server as `npm start` does (node dist/server.js) and waits until it prints where it listens. */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const spawned = spawnEntry("src/server.ts", [], env);
  // A first start on a new folder migrates it: 26 s seen on a loaded 2-core machine.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const match = /GraphQL (?:and GraphiQL )?at (http:\/\/\S+)\/graphql/.exec(spawned.output());
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
    await sleep(50);
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

/**
 * A `GET /readyz` on a connection opened now, its headers all sent but the blank line that ends
 * them: the server holds the connection as busy (it is mid-request), and `finish()` asks the
 * question whenever the test likes, even after the listener stopped accepting.
 */
export async function readyzHalfSent(port: number): Promise<{ finish(): Promise<{ status: number; body: string }> }> {
  const socket: Socket = connect(port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  socket.write("GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
  let text = "";
  socket.on("data", (chunk) => (text += chunk));
  return {
    finish: () =>
      new Promise((resolve, reject) => {
        socket.once("error", reject);
        socket.once("close", () => {
          const [head = "", body = ""] = text.split("\r\n\r\n");
          resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), body });
        });
        // Not end(): a client's FIN makes node abort the request it has not answered yet. Connection:
        // close has the server end the connection once it has answered.
        socket.write("\r\n");
      }),
  };
}
