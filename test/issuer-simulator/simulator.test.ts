import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startIssuerSimulator } from "../../src/issuer-simulator/server.ts";
import { startTestIssuer, type TestIssuer } from "../helpers/issuer.ts";
import { spawnEntry } from "../helpers/processes.ts";

/** The issuer simulator's HTTP API, as CONTRACT describes it, spoken to over HTTP. */
let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await startTestIssuer({ cardLimit: 2 });
});
afterAll(() => issuer?.close());
beforeEach(() => issuer.clearFaults());

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(new URL(path, issuer.url), { method, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
}

describe("the issuer simulator", () => {
  it("creates cards up to the limit of cards that are not DELETED, lists them oldest first, and changes their status", async () => {
    const first = await call("POST", "/users/u-limit/cards");
    expect(first).toMatchObject({ status: 201, body: { userId: "u-limit", status: "ACTIVE", last4: expect.stringMatching(/^\d{4}$/) } });
    expect(first.body).toEqual({
      id: expect.any(String),
      userId: "u-limit",
      last4: expect.any(String),
      expMonth: expect.any(Number),
      expYear: expect.any(Number),
      status: "ACTIVE",
    });
    const second = await call("POST", "/users/u-limit/cards");
    expect(await call("POST", "/users/u-limit/cards")).toEqual({ status: 400, body: { message: "maximum number of cards allowed" } });
    expect((await call("PATCH", `/cards/${second.body.id}`, { status: "FROZEN" })).body.status).toBe("FROZEN");
    expect((await call("POST", "/users/u-limit/cards")).status).toBe(400);
    expect((await call("PATCH", `/cards/${first.body.id}`, { status: "DELETED" })).body.status).toBe("DELETED");
    const third = await call("POST", "/users/u-limit/cards");
    expect(third.status).toBe(201);
    const listed = await call("GET", "/users/u-limit/cards");
    expect(listed.body.cards.map((card: { id: string; status: string }) => [card.id, card.status])).toEqual([
      [first.body.id, "DELETED"],
      [second.body.id, "FROZEN"],
      [third.body.id, "ACTIVE"],
    ]);
  });

  it("keeps a DELETED card DELETED, and says so for unknown cards and statuses", async () => {
    const card = (await call("POST", "/users/u-deleted/cards")).body;
    await call("PATCH", `/cards/${card.id}`, { status: "DELETED" });
    expect((await call("PATCH", `/cards/${card.id}`, { status: "DELETED" })).status).toBe(200);
    expect((await call("PATCH", `/cards/${card.id}`, { status: "ACTIVE" })).status).toBe(409);
    expect((await call("PATCH", "/cards/00000000-0000-4000-8000-000000000000", { status: "FROZEN" })).status).toBe(404);
    expect((await call("PATCH", `/cards/${card.id}`, { status: "LOST" })).status).toBe(400);
  });

  it("faults: failNext answers 503 and changes nothing; loseNextCreates creates the card and drops the connection; delayMs waits", async () => {
    await issuer.faults({ failNext: 1 });
    expect((await call("POST", "/users/u-faults/cards")).status).toBe(503);
    expect(issuer.cardsOf("u-faults")).toHaveLength(0);

    await issuer.faults({ loseNextCreates: 1 });
    await expect(call("POST", "/users/u-faults/cards")).rejects.toThrow();
    expect(issuer.cardsOf("u-faults")).toHaveLength(1);
    expect((await call("POST", "/users/u-faults/cards")).status).toBe(201);

    await issuer.faults({ delayMs: 150 });
    const started = performance.now();
    expect((await call("GET", "/users/u-faults/cards")).body.cards).toHaveLength(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    await issuer.clearFaults();
    expect(await call("GET", "/_faults")).toEqual({ status: 200, body: { loseNextCreates: 0, failNext: 0, delayMs: 0 } });
  });

  it("with a state file, keeps its cards across a restart", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "onceql-issuer-"));
    try {
      const stateFile = path.join(dir, "issuer.json");
      const before = await startIssuerSimulator({ stateFile });
      const card = await (await fetch(`${before.url}/users/u-kept/cards`, { method: "POST" })).json();
      await before.close();
      const after = await startIssuerSimulator({ stateFile });
      const listed = await (await fetch(`${after.url}/users/u-kept/cards`)).json();
      await after.close();
      expect(listed.cards).toEqual([card]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("npm run issuer prints where it listens on a line of its own", async () => {
    const spawned = spawnEntry("src/issuer-simulator/main.ts", ["--port", "0", "--card-limit", "1"], {});
    try {
      let match: RegExpExecArray | null = null;
      for (let waited = 0; !match && waited < 15_000; waited += 50) {
        match = /^issuer listening at (http:\/\/127\.0\.0\.1:\d+)$/m.exec(spawned.output());
        if (!match) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(match, spawned.output()).not.toBeNull();
      const created = await fetch(`${match![1]}/users/u-cli/cards`, { method: "POST" });
      expect(created.status).toBe(201);
      expect((await fetch(`${match![1]}/users/u-cli/cards`, { method: "POST" })).status).toBe(400);
    } finally {
      spawned.child.kill("SIGTERM");
      expect(await spawned.exited).toBe(0);
    }
  });
});
