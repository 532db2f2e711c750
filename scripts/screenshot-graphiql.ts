// Takes docs/graphiql.png for the README: GraphiQL on a fresh embedded database, the example
// mutation run once. Needs Debian's Chromium (apt-get install chromium).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createServer } from "../src/index.ts";
import { launchChromium } from "./chromium.ts";

const dataDir = mkdtempSync(path.join(tmpdir(), "onceql-screenshot-"));
const server = await createServer({ port: 0, dataDir, logLevel: "silent" });
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  await page.goto(`${server.url}/graphql`);
  await page.click(".graphiql-execute-button", { timeout: 30_000 });
  await page.locator(".graphiql-response").getByText("EXECUTED").waitFor();
  const file = path.resolve(import.meta.dirname, "../docs/graphiql.png");
  await page.screenshot({ path: file });
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
} finally {
  await browser.close();
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
}
