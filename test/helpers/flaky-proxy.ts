import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** What the proxy does with one request. */
export type Behaviour =
  | "pass"
  /** Forwards it, waits for the server's answer (so a mutation has committed), then cuts the connection. */
  | "lose-response"
  | { status: number; headers?: Record<string, string> };

/**
 * An HTTP proxy in front of a real server that plays a script of failures, one per request,
 * then passes everything through. Counts what reached the server.
 */
export async function startFlakyProxy(upstream: string, script: Behaviour[] = []) {
  const queue = [...script];
  let forwarded = 0;
  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    const behaviour = queue.shift() ?? "pass";
    if (typeof behaviour === "object") {
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
    if (behaviour === "lose-response") {
      req.socket.destroy();
      return;
    }
    res.writeHead(answer.status, Object.fromEntries(answer.headers)).end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    script: (...more: Behaviour[]) => queue.push(...more),
    forwarded: () => forwarded,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
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
