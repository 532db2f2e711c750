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
  let roundTrips = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const backend = connect(Number(upstream.port || 5432), upstream.hostname);
    sockets.add(client).add(backend);
    let last: "client" | "server" = "server";
    client.on("data", (chunk) => {
      if (last === "server" && counting) roundTrips++;
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
    /** The round trips on every connection while `work` ran. */
    async during(work: () => Promise<unknown>): Promise<number> {
      roundTrips = 0;
      counting = true;
      try {
        await work();
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
