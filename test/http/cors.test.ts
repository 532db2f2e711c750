import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CREATE_KEY } from "../helpers/operations.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

const LISTED = "https://app.example";

let closed: TestApp;
let open: TestApp;
beforeAll(async () => {
  closed = await startTestApp();
  open = await startTestApp({ db: closed.db, config: { corsOrigins: [LISTED, "http://localhost:5173"] } });
});
afterAll(async () => {
  await open.close();
  await closed.close();
});

const preflight = (t: TestApp, origin: string) =>
  t.fetch("/graphql", {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
  });

const corsHeaders = (response: { headers: Headers }) =>
  Object.fromEntries([...response.headers].filter(([name]) => name.startsWith("access-control-")));

describe("CORS, with no ONCEQL_CORS_ORIGINS", () => {
  it("answers another origin's request with no CORS header at all, so its page cannot read the answer", async () => {
    const response = await closed.gql("{ workspace { name } }", {}, { headers: { origin: "http://localhost:5173" } });
    expect(response.body.data.workspace.name).toBe("test");
    expect(corsHeaders(response)).toEqual({});
  });

  it("gives a preflight no allow-origin, so the browser never sends the request", async () => {
    const response = await preflight(closed, "https://evil.example");
    expect(corsHeaders(response)).toEqual({});
  });
});

describe("CORS, with ONCEQL_CORS_ORIGINS", () => {
  it("lets a listed origin in: exactly that origin, no credentials, methods and headers allowed", async () => {
    const response = await preflight(open, LISTED);
    expect(response.status).toBeLessThan(300);
    expect(response.headers.get("access-control-allow-origin")).toBe(LISTED);
    expect(response.headers.get("access-control-allow-credentials")).toBeNull();
    expect(response.headers.get("access-control-allow-methods")).toMatch(/POST/);
    expect(response.headers.get("access-control-allow-headers")).toMatch(/authorization/);
    expect(response.headers.get("vary")).toMatch(/Origin/);
  });

  it("lets its page read Idempotent-Replayed (and Retry-After), which browsers hide by default", async () => {
    const input = { clientMutationId: "cors-replay-1", name: "from a page" };
    await open.gql(CREATE_KEY, { input }, { headers: { origin: LISTED } });
    const replay = await open.gql(CREATE_KEY, { input }, { headers: { origin: LISTED } });
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.headers.get("access-control-allow-origin")).toBe(LISTED);
    expect(replay.headers.get("access-control-allow-credentials")).toBeNull();
    const exposed = replay.headers.get("access-control-expose-headers")?.toLowerCase().split(/,\s*/);
    expect(exposed).toEqual(expect.arrayContaining(["idempotent-replayed", "retry-after"]));
  });

  it.each([
    ["an unlisted origin", "https://evil.example"],
    ["a listed origin's other port", "https://app.example:8443"],
    ["a listed origin's other scheme", "http://app.example"],
    ["null (a sandboxed frame, a file)", "null"],
  ])("gives %s no allow-origin: neither reflected nor null", async (_label, origin) => {
    expect(corsHeaders(await preflight(open, origin))).toEqual({});
    const response = await open.gql("{ workspace { name } }", {}, { headers: { origin } });
    expect(corsHeaders(response)).toEqual({});
  });
});
