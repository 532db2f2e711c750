import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createServer, type RunningServer } from "onceql";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumInstalled, chromiumPath, launchChromium } from "../../scripts/chromium.ts";
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
  beforeAll(async () => {
    server = await createServer({ port: 0, dataDir, logLevel: "silent" });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
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
});
