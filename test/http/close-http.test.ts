import { Agent, request } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { closeHttp, listen } from "../../src/server.ts";

/** A GET over `agent`: the status, the Connection header, or the error that ended it. */
function get(port: number, path: string, agent: Agent): Promise<{ status?: number; connection?: string; error?: string }> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path, agent }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode, connection: res.headers.connection }));
    });
    req.on("error", (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    req.end();
  });
}

describe("closeHttp: the listener's part of a shutdown", () => {
  it("closes idle keep-alive connections at once, lets a request in flight finish with Connection: close, then resolves", async () => {
    const http = await listen(
      (req, res) => {
        if (req.url === "/slow") setTimeout(() => res.end("slow"), 400);
        else res.end("fast");
      },
      { port: 0, host: "127.0.0.1" },
    );
    const { port } = http.address() as AddressInfo;
    const idleAgent = new Agent({ keepAlive: true });
    expect(await get(port, "/fast", idleAgent)).toEqual({ status: 200, connection: "keep-alive" });
    const idleSocket = Object.values(idleAgent.freeSockets).flat()[0]!;
    const idleClosed = new Promise((resolve) => idleSocket.once("close", resolve));

    const slow = get(port, "/slow", new Agent({ keepAlive: true }));
    await sleep(100);
    const started = Date.now();
    const closing = closeHttp(http, 5_000);
    await idleClosed;
    expect(Date.now() - started).toBeLessThan(200);
    expect(await slow).toEqual({ status: 200, connection: "close" });
    expect(await closing).toEqual({ timedOut: false });
    expect(await get(port, "/fast", new Agent())).toMatchObject({ error: "ECONNREFUSED" });
  });

  it("after timeoutMs, closes the connections of requests still running, and says so", async () => {
    const http = await listen(() => {}, { port: 0, host: "127.0.0.1" });
    const { port } = http.address() as AddressInfo;
    const stuck = get(port, "/never", new Agent());
    await sleep(100);
    const started = Date.now();
    expect(await closeHttp(http, 300)).toEqual({ timedOut: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect((await stuck).error).toMatch(/ECONNRESET|socket hang up/);
  });
});
