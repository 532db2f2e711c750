import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createServer, type RunningServer } from "onceql";
import { afterAll, beforeAll, expect, it } from "vitest";
import { spawnEntry } from "./helpers/processes.ts";

const dataDir = mkdtempSync(path.join(tmpdir(), "onceql-examples-"));
let server: RunningServer;
beforeAll(async () => {
  server = await createServer({ port: 0, dataDir, logLevel: "silent" });
});
afterAll(async () => {
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

it("examples/create-key.ts creates one key and its retry is a replay", async () => {
  const example = spawnEntry("examples/create-key.ts", [], { ONCEQL_URL: `${server.url}/graphql`, ONCEQL_TOKEN: server.devToken! });
  expect(await example.exited, example.output()).toBe(0);
  expect(example.output()).toMatch(/created key \S+ for user-42/);
  expect(example.output()).toContain("retry replayed: true, same key: true, same secret: true");
  expect(example.output()).toContain("secret verifies: true");
  expect(await server.db.prisma.apiKey.count({ where: { name: "example key" } })).toBe(1);
});

it("examples/cards.ts gets one card from the issuer simulator the server started itself, and its retry is a replay", async () => {
  const example = spawnEntry("examples/cards.ts", [], { ONCEQL_URL: `${server.url}/graphql`, ONCEQL_TOKEN: server.devToken! });
  expect(await example.exited, example.output()).toBe(0);
  expect(example.output()).toMatch(/card \S+ \(•••• \d{4}\), ACTIVE, ISSUED/);
  expect(example.output()).toContain("retry replayed: true, same card: true");
  expect(example.output()).toContain("card is now FROZEN");
  expect(example.output()).toContain("card is now ACTIVE");
  expect(example.output()).toContain("cards of the identity: 1");
  expect(server.issuerSimulator?.state.all()).toHaveLength(1);
  expect(await server.db.prisma.card.count()).toBe(1);
});

it("examples/wallets.ts spends the promotion first, replays its pending debit, and confirms part of it", async () => {
  const example = spawnEntry("examples/wallets.ts", [], { ONCEQL_URL: `${server.url}/graphql`, ONCEQL_TOKEN: server.devToken! });
  expect(await example.exited, example.output()).toBe(0);
  expect(example.output()).toMatch(/wallet:\S+:promo -> hold:\S+: 1500 USD\/2/);
  expect(example.output()).toMatch(/wallet:\S+:main -> hold:\S+: 2500 USD\/2/);
  expect(example.output()).toContain("retry replayed: true, same hold: true");
  expect(example.output()).toContain("hold CONFIRMED, 2 postings");
  // 2500 confirmed uses the promotion first (1500), then 1000 of main; the other 1500 goes back to main.
  expect(example.output()).toContain("main: 9000 USD/2");
  expect(example.output()).toContain("promo: 0 USD/2");
  expect(await server.db.prisma.hold.count()).toBe(1);
});

it("examples/shop.ts orders all or none, pays once whatever the retries, refunds part, and checks out in one step", async () => {
  const example = spawnEntry("examples/shop.ts", [], { ONCEQL_URL: `${server.url}/graphql`, ONCEQL_TOKEN: server.devToken! });
  expect(await example.exited, example.output()).toBe(0);
  expect(example.output()).toContain("short: 3 requested, 2 available");
  expect(example.output()).toContain("order RESERVED, total 3800 USD/2");
  expect(example.output()).toContain("payment SUCCEEDED, order PAID");
  expect(example.output()).toContain("retry replayed: true, same payment: true");
  expect(example.output()).toContain("second payment: ORDER_NOT_PAYABLE (PAID)");
  expect(example.output()).toContain("refundable now: 3000");
  expect(example.output()).toContain("checkout: order PAID, payment SUCCEEDED");
  expect(example.output()).toContain("T-shirt: stock 8, reserved 0, sold 2");
  expect(example.output()).toContain("Mug: stock 0, reserved 0, sold 2");
  // 10000 − 3800 paid + 800 refunded − 800 at checkout.
  expect(example.output()).toContain("main: 6200 USD/2");
  expect(await server.db.prisma.payment.count({ where: { status: "SUCCEEDED" } })).toBe(2);
});
