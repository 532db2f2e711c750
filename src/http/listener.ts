import { createServer as createHttpServer, type RequestListener, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Config } from "../config.ts";

/** The responses each server made by `listen` is still writing. */
const responses = new WeakMap<Server, Set<ServerResponse>>();

/** An HTTP server on the configured host and port, answering with `handler`. */
export function listen(handler: RequestListener, config: Pick<Config, "port" | "host">): Promise<Server> {
  const open = new Set<ServerResponse>();
  const http = createHttpServer((request, response) => {
    open.add(response);
    response.once("close", () => open.delete(response));
    // A request that still arrives once closing (its connection was mid-request) ends its connection.
    if (!http.listening) response.setHeader("connection", "close");
    handler(request, response);
  });
  responses.set(http, open);
  return new Promise((resolve, reject) => {
    http.once("error", reject);
    http.listen(config.port, config.host, () => {
      http.off("error", reject);
      resolve(http);
    });
  });
}

export function urlOf(http: Server, config: Pick<Config, "host">): string {
  const { port } = http.address() as AddressInfo;
  return `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
}

/**
 * Stops accepting and waits for in-flight requests to finish; after `timeoutMs` (unset: no limit)
 * the connections still open are closed, their requests unanswered. `timedOut` says whether it came to that.
 */
export async function closeHttp(http: Server, timeoutMs?: number, logger?: Logger): Promise<{ timedOut: boolean }> {
  const closed = new Promise<void>((resolve) => http.close(() => resolve()));
  // Node ends a busy connection once its response is out; saying so in the response keeps a client
  // from sending its next request down a connection about to close (a POST it could not tell ran).
  for (const response of responses.get(http) ?? []) if (!response.headersSent) response.setHeader("connection", "close");
  // Keep-alive connections waiting for their next request go now: their clients move on to another server.
  http.closeIdleConnections();
  const open = await new Promise<number>((resolve) => http.getConnections((_error, count) => resolve(count ?? 0)));
  logger?.info({ connections: open, timeoutMs }, "stopped accepting connections: waiting for in-flight requests");
  let timer: NodeJS.Timeout | undefined;
  const timedOut =
    timeoutMs === undefined
      ? await closed.then(() => false)
      : await Promise.race([closed.then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(resolve, timeoutMs, true)))]);
  clearTimeout(timer);
  if (timedOut) {
    const left = await new Promise<number>((resolve) => http.getConnections((_error, count) => resolve(count ?? 0)));
    logger?.warn({ connections: left, timeoutMs }, "requests still running after ONCEQL_SHUTDOWN_TIMEOUT_MS: closing their connections");
    http.closeAllConnections();
    await closed;
  } else {
    logger?.info("in-flight requests finished");
  }
  return { timedOut };
}
