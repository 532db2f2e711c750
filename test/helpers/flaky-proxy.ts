import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

/** What the proxy does with one request. */
export type Behaviour =
  | "pass"
  /** Forwards it, waits for the server's answer (so a mutation has committed), then cuts the connection. */
  | "lose-response"
  /**
   * As "lose-response", and the network goes down with it: from before the cut, connections are
   * refused (nothing listens on the port) until `restore()`, so the client's retries find no server.
   */
  | "lose-response-then-refuse"
  | { status: number; headers?: Record<string, string> };

/** The clientMutationIds found in a request's variables: which calls a lost response belonged to. */
export function keysIn(body: string): string[] {
  const keys: string[] = [];
  const walk = (value: unknown) => {
    if (typeof value !== "object" || value === null) return;
    const { clientMutationId } = value as { clientMutationId?: unknown };
    if (typeof clientMutationId === "string") keys.push(clientMutationId);
    for (const inner of Object.values(value)) walk(inner);
  };
  try {
    walk((JSON.parse(body) as { variables?: unknown }).variables);
  } catch {
    // Not a GraphQL POST: no keys.
  }
  return keys;
}

const isMutation = (body: string) => {
  try {
    return /^\s*mutation\b/.test((JSON.parse(body) as { query?: string }).query ?? "");
  } catch {
    return false;
  }
};

/** mulberry32: a seeded generator, so a run's draws can be replayed with its seed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * An HTTP proxy in front of a real server that plays a script of failures, one per request,
 * then passes everything through (or, after `loseAtRandom`, loses a share of mutations' responses).
 * Counts what reached the server. `refuse()` takes it off its port: a client's connection is
 * refused as by a machine where nothing listens, until `restore()` listens on the same port again.
 */
export async function startFlakyProxy(upstream: string, script: Behaviour[] = []) {
  const queue = [...script];
  let forwarded = 0;
  const lost: string[][] = [];
  let random: { draw: () => number; share: number } | undefined;
  const sockets = new Set<Socket>();
  let refusing: Promise<void> | undefined;

  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    let behaviour = queue.shift() ?? "pass";
    if (behaviour === "pass" && random && isMutation(body.toString()) && random.draw() < random.share) behaviour = "lose-response";
    if (typeof behaviour === "object" && "status" in behaviour) {
      res.writeHead(behaviour.status, { "content-type": "text/plain", ...behaviour.headers }).end("injected failure\n");
      return;
    }
    forwarded++;
    const answer = await fetch(new URL(req.url ?? "/", upstream), {
      method: req.method,
      headers: Object.fromEntries(
        Object.entries(req.headers).filter(([name]) => !["host", "connection", "content-length"].includes(name)) as [string, string][],
      ),
      body: req.method === "GET" || req.method === "HEAD" ? undefined : new Uint8Array(body),
    });
    const text = Buffer.from(await answer.arrayBuffer());
    if (behaviour !== "pass") {
      lost.push(keysIn(body.toString()));
      // Off the port before the cut: a client retrying at once must not get through.
      if (behaviour === "lose-response-then-refuse") void refuse();
      req.socket.destroy();
      return;
    }
    res.writeHead(answer.status, Object.fromEntries(answer.headers)).end(text);
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  /** Stops listening now (synchronously, so no connection slips in) and resets every open connection. */
  function refuse(): Promise<void> {
    if (refusing) return refusing;
    refusing = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    return refusing;
  }

  async function restore(): Promise<void> {
    if (!refusing) return;
    // Re-listening before the old listener's close has drained would leave that close pending forever.
    await refusing;
    for (let tries = 1; ; tries++) {
      try {
        await new Promise<void>((resolve, reject) => {
          server.once("error", reject);
          server.listen(port, "127.0.0.1", () => {
            server.off("error", reject);
            resolve();
          });
        });
        break;
      } catch (error) {
        // Something else may hold the port for a moment (an outgoing connection's ephemeral port).
        if (tries >= 20) throw error;
        await sleep(50);
      }
    }
    refusing = undefined;
  }

  return {
    url: `http://127.0.0.1:${port}`,
    script: (...more: Behaviour[]) => queue.push(...more),
    forwarded: () => forwarded,
    /** The keys of each request whose response was lost, in order. */
    lost: () => lost,
    /** From now on, when the script is empty, each mutation's response is lost with probability `share`. */
    loseAtRandom: (options: { seed: number; share: number }) => {
      random = { draw: seeded(options.seed), share: options.share };
    },
    refuse,
    restore,
    refusing: () => refusing !== undefined,
    close: async () => {
      await refusing;
      if (!server.listening) return;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
