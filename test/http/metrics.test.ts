import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CREATE_KEY } from "../helpers/operations.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

const METRICS_TOKEN = "metrics-token-0123456789abcdef";

let open: TestApp;
let guarded: TestApp;
beforeAll(async () => {
  open = await startTestApp();
  guarded = await startTestApp({ db: open.db, config: { metricsToken: METRICS_TOKEN } });
  await guarded.gql(CREATE_KEY, { input: { clientMutationId: "metrics-1" } });
});
afterAll(async () => {
  await guarded.close();
  await open.close();
});

const scrape = (t: TestApp, authorization?: string) => t.fetch("/metrics", { headers: authorization ? { authorization } : {} });

describe("/metrics with ONCEQL_METRICS_TOKEN", () => {
  it.each([
    ["no Authorization", undefined],
    ["a workspace's token", "workspace"],
    ["another token", "Bearer metrics-token-0123456789abcdeX"],
    ["the token as Basic", `Basic ${METRICS_TOKEN}`],
    ["the token with more after it", `Bearer ${METRICS_TOKEN}x`],
  ])("refuses %s: 401, and not a count in the answer", async (_label, authorization) => {
    const response = await scrape(guarded, authorization === "workspace" ? `Bearer ${guarded.token}` : authorization);
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(await response.text()).not.toMatch(/onceql_/);
  });

  it("answers its bearer: every workspace's counts, as Prometheus text", async () => {
    const response = await scrape(guarded, `Bearer ${METRICS_TOKEN}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await response.text()).toMatch(/onceql_idempotency_\w+\{mutation="createKey"/);
  });
});

describe("/metrics with no ONCEQL_METRICS_TOKEN", () => {
  it("answers without Authorization, as before", async () => {
    const response = await scrape(open);
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/^# HELP/m);
  });
});
