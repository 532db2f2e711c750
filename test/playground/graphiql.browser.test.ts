import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { createServer, type RunningServer } from "onceql";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumInstalled, chromiumPath, launchChromium } from "../../scripts/chromium.ts";
import { closeHttp, listen, urlOf } from "../../src/server.ts";
import { postgresRequired } from "../helpers/postgres-url.ts";

if (!chromiumInstalled()) {
  const message = `Chromium is not installed at ${chromiumPath} (apt-get install chromium)`;
  if (postgresRequired()) throw new Error(`${message}; the browser test is required in CI.`);
  console.warn(`\n*** ${message}: the GraphiQL browser test is SKIPPED. It runs in CI. ***\n`);
}

describe.skipIf(!chromiumInstalled())("GraphiQL in a headless browser", () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "onceql-graphiql-"));
  let server: RunningServer;
  let browser: Browser;
  let elsewhere: Server;
  beforeAll(async () => {
    server = await createServer({ port: 0, dataDir, logLevel: "silent" });
    // A name that resolves to this machine, as DNS rebinding makes one.
    browser = await launchChromium(["--host-resolver-rules=MAP evil.example 127.0.0.1"]);
    elsewhere = await listen(
      (_request, response) => {
        response.setHeader("content-type", "text/html");
        response.end(pageOfAnotherOrigin(server.url));
      },
      { port: 0, host: "127.0.0.1" },
    );
  });
  afterAll(async () => {
    await browser?.close();
    if (elsewhere) await closeHttp(elsewhere);
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("loads with the dev token and the example, runs it, and shows the result, then the replay", async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/graphql`);
    const run = page.locator(".graphiql-execute-button");
    await run.click({ timeout: 30_000 });
    const response = page.locator(".graphiql-response");
    await response.getByText('"EXECUTED"').waitFor();
    // Monaco draws spaces as no-break spaces.
    const text = async () => (await response.innerText()).replace(/\s+/g, " ");
    const first = await text();
    expect(first).toContain('"__typename": "CreateKeyPayload"');
    const secret = /"secret": "(oq_sk_[^"]+)"/.exec(first)?.[1];
    expect(secret).toBeDefined();

    await run.click();
    await response.getByText('"REPLAYED"').waitFor();
    expect(await text()).toContain(secret);
    expect(await server.db.prisma.apiKey.count({ where: { name: "first key" } })).toBe(1);
  });

  it("a page of another origin (another port) can neither read the token nor spend it, nor get it framed", async () => {
    const page = await browser.newPage();
    await page.goto(urlOf(elsewhere, { host: "127.0.0.1" }));
    const outcome = await (await page.waitForFunction(() => (window as { outcome?: unknown }).outcome)).jsonValue();
    expect(outcome).toEqual({ read: expect.stringMatching(/^blocked/), mutation: expect.stringMatching(/^blocked/) });
    const framed = page.frames().find((frame) => frame.url().startsWith(server.url));
    expect(framed).toBeDefined();
    await framed!.waitForLoadState();
    expect((await framed!.content()).includes(server.devToken!), "the token in the framed GraphiQL").toBe(false);
    expect(await server.db.prisma.apiKey.count({ where: { name: "stolen" } })).toBe(0);
    expect(await server.db.prisma.idempotencyRecord.count({ where: { clientMutationId: "stolen-1" } })).toBe(0);
  });

  it("GraphiQL under a name that resolves here (DNS rebinding) opens without the token", async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url.replace("127.0.0.1", "evil.example")}/graphql`);
    await page.locator(".graphiql-execute-button").waitFor({ timeout: 30_000 });
    expect((await page.content()).includes(server.devToken!), "the token in the page").toBe(false);
    // Its own script is same-origin with the server under that name, and finds none either.
    const html = await page.evaluate(async () => (await fetch("/graphql", { headers: { accept: "text/html" } })).text());
    expect(html.includes("createKey") && !html.includes(server.devToken!)).toBe(true);
  });
});

/** What a page elsewhere does: reads GraphiQL for the token, spends it on a mutation, and frames GraphiQL. */
function pageOfAnotherOrigin(target: string): string {
  return `<!doctype html>
<title>elsewhere</title>
<iframe src="${target}/graphql"></iframe>
<script type="module">
  const outcome = {};
  try {
    const page = await (await fetch("${target}/graphql", { headers: { accept: "text/html" } })).text();
    outcome.read = /oq_ws_[\\w-]+/.exec(page)?.[0] ?? "read, no token";
  } catch (error) {
    outcome.read = "blocked: " + error.message;
  }
  try {
    const response = await fetch("${target}/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer " + outcome.read },
      body: JSON.stringify({ query: 'mutation { createKey(input: { clientMutationId: "stolen-1", name: "stolen" }) { __typename } }' }),
    });
    outcome.mutation = response.status + " " + (await response.text());
  } catch (error) {
    outcome.mutation = "blocked: " + error.message;
  }
  window.outcome = outcome;
</script>
`;
}
