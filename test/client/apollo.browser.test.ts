import type { Server } from "node:http";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumInstalled, chromiumPath, launchChromium } from "../../scripts/chromium.ts";
import { closeHttp, listen, urlOf } from "../../src/server.ts";
import { postgresRequired } from "../helpers/postgres-url.ts";
import type { ApolloPage } from "./page/apollo-page.ts";
import { type CreateKeyData, type IdempotencyExtensions, type LinkServer, startLinkServer } from "./server.ts";

if (!chromiumInstalled()) {
  const message = `Chromium is not installed at ${chromiumPath} (apt-get install chromium)`;
  if (postgresRequired()) throw new Error(`${message}; the browser test is required in CI.`);
  console.warn(`\n*** ${message}: the Apollo Link browser test is SKIPPED. It runs in CI. ***\n`);
}

/**
 * The page's script, from the sources: @onceql/client through its onceql-source export, as the
 * tests import it, so that a fresh clone needs no build of the package.
 */
async function bundlePage(): Promise<string> {
  const result = await build({
    entryPoints: [path.join(path.dirname(fileURLToPath(import.meta.url)), "page/apollo-page.ts")],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: "chrome120",
    conditions: ["onceql-source"],
    logLevel: "warning",
  });
  return result.outputFiles[0]!.text;
}

// The icon in the page, so that no /favicon.ico request goes through the proxy and takes its scripted failure.
const pageHtml = (token: string) => `<!doctype html>
<meta name="onceql-token" content="${token}">
<title>onceql Apollo Link</title>
<link rel="icon" href="data:,">
<script type="module" src="/page.js"></script>
`;

describe.skipIf(!chromiumInstalled())("Apollo Client with createIdempotencyLink in a page in Chromium", () => {
  let server: LinkServer;
  let site: Server;
  let browser: Browser;
  beforeAll(async () => {
    const script = await bundlePage();
    // The page and the API on one origin, behind the proxy, as a site serves its app and its API:
    // no CORS preflight to use up the proxy's script.
    server = await startLinkServer({
      upstream: async (appUrl) => {
        site = await listen(
          async (request, response) => {
            if (request.url === "/") {
              response.setHeader("content-type", "text/html");
              return response.end(pageHtml(server.app.token));
            }
            if (request.url === "/page.js") {
              response.setHeader("content-type", "text/javascript");
              return response.end(script);
            }
            const chunks: Buffer[] = [];
            for await (const chunk of request) chunks.push(chunk as Buffer);
            const answer = await fetch(new URL(request.url ?? "/", appUrl), {
              method: request.method,
              headers: Object.fromEntries(
                Object.entries(request.headers).filter(([name]) => !["host", "connection", "content-length"].includes(name)) as [
                  string,
                  string,
                ][],
              ),
              body: request.method === "GET" || request.method === "HEAD" ? undefined : Buffer.concat(chunks),
            });
            response.writeHead(answer.status, Object.fromEntries(answer.headers)).end(Buffer.from(await answer.arrayBuffer()));
          },
          { port: 0, host: "127.0.0.1" },
        );
        return urlOf(site, { host: "127.0.0.1" });
      },
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (site) await closeHttp(site);
  });

  it("the network cut while the page's mutation is in flight (its response lost, connections refused), then restored: one effect, the page gets the REPLAYED answer with the key it generated", async () => {
    const page = await browser.newPage();
    const pageErrors: Error[] = [];
    page.on("pageerror", (error) => pageErrors.push(error));
    await page.goto(`${server.proxy.url}/`);
    await page.waitForFunction(() => "onceqlPage" in window, undefined, { timeout: 30_000 });

    const before = server.proxy.forwarded();
    server.proxy.script("lose-response-then-refuse");
    const call = page.evaluate((name) => (window as unknown as { onceqlPage: ApolloPage }).onceqlPage.createKey(name), "page-cut");
    // Down for a while, and until the page has met the refused port twice after the lost response.
    await Promise.all([
      sleep(500),
      page.waitForFunction(() => (window as unknown as { onceqlPage: ApolloPage }).onceqlPage.retries.length >= 3, undefined, {
        timeout: 30_000,
        polling: 20,
      }),
    ]);
    expect(server.proxy.refusing()).toBe(true);
    await server.proxy.restore();
    const { data, extensions } = (await call) as { data: CreateKeyData; extensions: IdempotencyExtensions };

    const retries = await page.evaluate(() => (window as unknown as { onceqlPage: ApolloPage }).onceqlPage.retries);
    const [key] = retries[0]!.clientMutationIds!;
    expect(key).toMatch(/^[0-9a-f-]{36}$/);
    expect(retries.every((retry) => retry.clientMutationIds?.[0] === key)).toBe(true);
    expect(server.proxy.lost()).toEqual([[key]]);
    expect(data.createKey).toMatchObject({ __typename: "CreateKeyPayload", clientMutationId: key, key: { name: "page-cut" } });
    expect(extensions.idempotency).toEqual([{ field: "createKey", clientMutationId: key, status: "REPLAYED" }]);
    expect(server.proxy.forwarded() - before).toBe(2);
    expect(await server.keysNamed("page-cut")).toBe(1);
    expect(await server.storedRecord(key!)).toEqual({ mutation: "createKey", status: "COMPLETED" });
    expect(pageErrors).toEqual([]);
  });
});
