import { mkdtempSync, rmSync } from "node:fs";
import { get } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { createServer } from "onceql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

const TOKEN = "oq_ws_graphiql-test-token";

let t: TestApp;
let url: string;
beforeAll(async () => {
  t = await startTestApp({ graphiqlToken: TOKEN });
  url = await t.listen();
});
afterAll(() => t.close());

/** GraphiQL as a browser asks for it, over a socket, so the Host header is the one sent. */
function openGraphiQL(base: string, headers: Record<string, string> = {}): Promise<{ status: number; html: string }> {
  return new Promise((resolve, reject) => {
    get(`${base}/graphql`, { headers: { accept: "text/html", ...headers } }, (res) => {
      let html = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        html += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, html }));
    }).on("error", reject);
  });
}

describe("GraphiQL carries the dev token", () => {
  it.each([
    ["typed into the address bar", {}],
    ["at localhost, any port", { host: "localhost:4000" }],
    ["at [::1]", { host: "[::1]:4000" }],
    ["asked for by its own page", { "sec-fetch-site": "same-origin" }],
    ["opened from a bookmark", { "sec-fetch-site": "none" }],
  ])("%s", async (_label, headers) => {
    const page = await openGraphiQL(url, headers);
    expect(page.status).toBe(200);
    expect(page.html.includes(TOKEN), "the token in the page").toBe(true);
  });

  it("with an Origin that is its own", async () => {
    const page = await openGraphiQL(url, { origin: url });
    expect(page.html.includes(TOKEN), "the token in the page").toBe(true);
  });
});

describe("GraphiQL without the dev token, still served", () => {
  it.each([
    ["a name that resolves here (DNS rebinding)", { host: "evil.example:4000" }],
    ["a name of this machine's under another domain", { host: "localhost.evil.example" }],
    ["another origin's page (another port)", { origin: "http://127.0.0.1:5173" }],
    ["another origin's page (another name for this machine)", { origin: "http://localhost:4000" }],
    ["a sandboxed frame or a file", { origin: "null" }],
    ["a page of another site, without an Origin (a frame, a link)", { "sec-fetch-site": "cross-site" }],
    ["a page of this site on another port", { "sec-fetch-site": "same-site" }],
  ])("for %s", async (_label, headers) => {
    const page = await openGraphiQL(url, headers);
    expect(page.status).toBe(200);
    expect(page.html.includes("createKey"), "the example in the page").toBe(true);
    expect(page.html.includes(TOKEN), "the token in the page").toBe(false);
  });
});

describe("listening beyond loopback", () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "onceql-graphiql-host-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("with GraphiQL switched on, the server never gives it the token, even to a loopback Host; it still prints it", async () => {
    // Beyond loopback GraphiQL is off unless asked for (production mode).
    const server = await createServer({ host: "0.0.0.0", port: 0, dataDir, logLevel: "silent", graphiql: true });
    try {
      expect(server.devToken).toMatch(/^oq_ws_/);
      const page = await openGraphiQL(server.url.replace("0.0.0.0", "127.0.0.1"));
      expect(page.status).toBe(200);
      expect(page.html.includes("createKey"), "the example in the page").toBe(true);
      expect(page.html.includes(server.devToken!), "the token in the page").toBe(false);
    } finally {
      await server.close();
    }
  });
});
