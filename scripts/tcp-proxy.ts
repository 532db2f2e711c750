import { connect, createServer, type Socket } from "node:net";

/**
 * A TCP proxy in front of PostgreSQL that can cut every connection, refuse new ones, or go silent
 * as a network partition does: connections stay open and nothing crosses them.
 */
export async function startTcpProxy(target: { host: string; port: number }) {
  const sockets = new Set<Socket>();
  const pairs = new Set<[Socket, Socket]>();
  let refusing = false;
  let silent = false;
  const server = createServer((client) => {
    if (refusing) return client.destroy();
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => {});
    // Silent: the connection is accepted and then nothing ever answers it.
    if (silent) return;
    const upstream = connect(target.port, target.host);
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    upstream.on("error", () => {});
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.pipe(upstream).pipe(client);
    client.on("close", () => {
      pairs.delete(pair);
      upstream.destroy();
    });
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    /** Resets every open connection, as a network blip or a database restart would. */
    cut: () => {
      for (const socket of sockets) socket.destroy();
    },
    /** New connections are reset at once until `restore()`: the database is down. */
    refuse: () => {
      refusing = true;
    },
    restore: () => {
      refusing = false;
    },
    /** A partition: every connection stays open, and nothing is forwarded either way, ever again. */
    silence: () => {
      silent = true;
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
