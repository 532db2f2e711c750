import { connect, createServer, type Socket } from "node:net";

/**
 * A TCP proxy in front of PostgreSQL that counts round trips: on each connection, every time the
 * client sends after the server last spoke (or first), it is one more. Statements the client sends
 * together (a pipeline, however many writes) count once; each one it waits for the answer of
 * before sending the next counts again.
 */
export async function startRoundTripProxy(databaseUrl: string) {
  const upstream = new URL(databaseUrl);
  let counting = false;
  /** Per connection while counting: its round trips, and what its client sent. */
  let connections = new Map<Socket, { roundTrips: number; sent: string }>();
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const backend = connect(Number(upstream.port || 5432), upstream.hostname);
    sockets.add(client).add(backend);
    let last: "client" | "server" = "server";
    client.on("data", (chunk) => {
      if (counting) {
        const seen = connections.get(client) ?? { roundTrips: 0, sent: "" };
        if (last === "server") seen.roundTrips++;
        seen.sent += chunk.toString("latin1");
        connections.set(client, seen);
      }
      last = "client";
      backend.write(chunk);
    });
    backend.on("data", (chunk) => {
      last = "server";
      client.write(chunk);
    });
    const end = () => {
      client.destroy();
      backend.destroy();
      sockets.delete(client);
      sockets.delete(backend);
    };
    client.on("close", end).on("error", end);
    backend.on("close", end).on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  const url = new URL(databaseUrl);
  url.hostname = "127.0.0.1";
  url.port = String(port);
  return {
    url: url.toString(),
    /**
     * The round trips while `work` ran, on every connection, or only on those whose client sent
     * `only` meanwhile (say `BEGIN;`, an attempt's first script: not the background's statements,
     * such as replay counts flushed on a timer).
     */
    async during(work: () => Promise<unknown>, options: { only?: string } = {}): Promise<number> {
      connections = new Map();
      counting = true;
      try {
        await work();
        let roundTrips = 0;
        for (const seen of connections.values()) if (!options.only || seen.sent.includes(options.only)) roundTrips += seen.roundTrips;
        return roundTrips;
      } finally {
        counting = false;
      }
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
