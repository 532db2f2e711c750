import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { CREATE_KEY } from "../helpers/operations.ts";
import { postGraphQL, readyzHalfSent, spawnEntry, startServerProcess } from "../helpers/processes.ts";

const dataDir = mkdtempSync(path.join(tmpdir(), "onceql-server-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
const env = { ONCEQL_DATA_DIR: dataDir };
const repo = path.resolve(import.meta.dirname, "../..");

describe("npm start on the embedded database", () => {
  it("migrates, creates the dev workspace, serves GraphiQL with its token, and keeps outcomes across restarts", async () => {
    const server = await startServerProcess(env);
    try {
      expect(server.devToken).toMatch(/^oq_ws_/);
      expect(server.output()).toMatch(/dev workspace token/);
      // yoga's own health check: 200 with an empty body, at /healthz only.
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${server.url}/health`)).status).toBe(404);
      const ready = await fetch(`${server.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.text()).toBe("ready\n");

      const page = await fetch(`${server.url}/graphql`, { headers: { accept: "text/html" } });
      const html = await page.text();
      expect(page.headers.get("content-type")).toMatch(/text\/html/);
      expect(html).toContain(server.devToken);
      expect(html).toContain("createKey");

      const input = { clientMutationId: "restart-1", name: "durable" };
      const first = await postGraphQL(server.url, server.devToken!, CREATE_KEY, { input });
      expect(first.body.data.createKey.secret).toMatch(/^oq_sk_/);
      expect(await server.stop()).toBe(0);

      const again = await startServerProcess(env);
      try {
        expect(again.devToken).toBe(server.devToken);
        const replay = await postGraphQL(again.url, again.devToken!, CREATE_KEY, { input });
        expect(replay.headers.get("idempotent-replayed")).toBe("true");
        expect(replay.body.data).toEqual(first.body.data);
        const metrics = await (await fetch(`${again.url}/metrics`)).text();
        expect(metrics).toContain('onceql_idempotency_replays_total{mutation="createKey"} 1');
      } finally {
        await again.stop();
      }
    } finally {
      server.child.kill("SIGKILL");
    }
  });

  it("a second process on the same data folder refuses with a clear message", async () => {
    const server = await startServerProcess(env);
    try {
      const second = spawnEntry("src/server.ts", [], env);
      expect(await second.exited).toBe(1);
      expect(second.output()).toMatch(/in use by another onceql process/);
      const cli = spawnEntry("src/cli.ts", ["workspace", "create", "blocked"], env);
      expect(await cli.exited).toBe(1);
      expect(cli.output()).toMatch(/in use by another onceql process/);
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  // What /proc tells of the process (Linux): its command line, its environment, its children.
  it.skipIf(!existsSync("/proc/self/cmdline"))(
    "runs as compiled JavaScript: node dist/server.js, one process, no TypeScript loader",
    async () => {
      const server = await startServerProcess(env);
      try {
        const pid = server.child.pid!;
        const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
        expect(argv.at(-1)).toBe(path.join(repo, "dist/server.js"));
        expect(argv.join(" ")).not.toMatch(/tsx|\.ts\b|onceql-source/);
        expect(readFileSync(`/proc/${pid}/environ`, "utf8")).not.toMatch(/NODE_OPTIONS=[^\0]*tsx/);
        const children = readdirSync(`/proc/${pid}/task`).flatMap((task) =>
          readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").split(/\s+/).filter(Boolean),
        );
        expect(children).toEqual([]);
      } finally {
        await server.stop();
      }
    },
  );

  it("SIGTERM: /readyz answers 503 shutting down, an in-flight request finishes, then exits 0", async () => {
    const server = await startServerProcess(env);
    const port = Number(new URL(server.url).port);
    const probe = await readyzHalfSent(port);
    const body = JSON.stringify({ query: CREATE_KEY, variables: { input: { clientMutationId: "sigterm-1", name: "in-flight" } } });
    const url = new URL(`${server.url}/graphql`);
    const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: "POST",
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
            authorization: `Bearer ${server.devToken}`,
          },
        },
        (res) => {
          let text = "";
          res.on("data", (chunk) => (text += chunk));
          res.on("end", () => resolve({ status: res.statusCode!, text }));
        },
      );
      req.on("error", reject);
      req.write(body.slice(0, 20));
      setTimeout(() => {
        server.child.kill("SIGTERM");
        setTimeout(() => req.end(body.slice(20)), 300);
      }, 100);
    });
    // SIGTERM went 100 ms in; the request's body follows 300 ms after it.
    await sleep(250);
    expect(await probe.finish()).toEqual({ status: 503, body: "shutting down\n" });
    const finished = await response;
    expect(finished.status).toBe(200);
    expect(JSON.parse(finished.text).data.createKey.key.name).toBe("in-flight");
    expect(await server.exited).toBe(0);
  });

  it("with HOST=0.0.0.0: GraphiQL and introspection are off by default", async () => {
    const server = await startServerProcess({ ...env, HOST: "0.0.0.0" });
    try {
      expect(server.output()).toMatch(/GraphQL at http:\/\/0\.0\.0\.0:\d+\/graphql \(pglite; GraphiQL off\)/);
      const url = server.url.replace("0.0.0.0", "127.0.0.1");
      const page = await fetch(`${url}/graphql`, { headers: { accept: "text/html" } });
      expect(page.headers.get("content-type") ?? "").not.toMatch(/text\/html/);
      expect(await page.text()).not.toMatch(/graphiql/i);
      const schema = await postGraphQL(url, server.devToken!, "{ __schema { queryType { name } } }");
      expect(schema.body.errors[0].message).toMatch(/GraphQL introspection has been disabled/);
      expect(schema.body.data).toBeUndefined();
      const typename = await postGraphQL(url, server.devToken!, "{ __typename }");
      expect(typename.body).toEqual({ data: { __typename: "Query" } });
    } finally {
      await server.stop();
    }
  });

  it("npm run cli -- workspace create prints a working token as its last line", async () => {
    const cli = spawnEntry("src/cli.ts", ["workspace", "create", "acme"], env);
    expect(await cli.exited).toBe(0);
    const token = cli.output().trim().split("\n").at(-1)!;
    expect(token).toMatch(/^oq_ws_\S+$/);
    const server = await startServerProcess(env);
    try {
      const response = await postGraphQL(server.url, token, "{ workspace { name } }");
      expect(response.body.data.workspace.name).toBe("acme");
    } finally {
      await server.stop();
    }
  });
});

describe("configuration", () => {
  it.each([
    ["ONCEQL_IDEMPOTENCY_TTL", "1m", /ONCEQL_IDEMPOTENCY_TTL: must be between 5m and 72h/],
    ["ONCEQL_IDEMPOTENCY_TTL", "73h", /ONCEQL_IDEMPOTENCY_TTL: must be between 5m and 72h/],
    ["ONCEQL_IDEMPOTENCY_TTL", "soon", /ONCEQL_IDEMPOTENCY_TTL: expected a duration/],
    ["PORT", "http", /PORT: expected a whole number/],
    ["ONCEQL_ENCRYPTION_KEY", "short", /ONCEQL_ENCRYPTION_KEY: must be 32 bytes/],
    ["DATABASE_URL", "mysql://localhost/x", /DATABASE_URL: must be a postgresql:\/\/ URL/],
    ["ONCEQL_CORS_ORIGINS", "*", /ONCEQL_CORS_ORIGINS: expected origins such as https:\/\/app.example/],
    ["ONCEQL_CORS_ORIGINS", "https://app.example/graphql", /ONCEQL_CORS_ORIGINS: expected origins/],
    ["ONCEQL_METRICS_TOKEN", "secret", /ONCEQL_METRICS_TOKEN: must be at least 16 characters/],
    ["ONCEQL_SHUTDOWN_TIMEOUT_MS", "10s", /ONCEQL_SHUTDOWN_TIMEOUT_MS: expected a whole number/],
    ["ONCEQL_GRAPHIQL", "yes", /ONCEQL_GRAPHIQL: must be on or off/],
    ["ONCEQL_INTROSPECTION", "true", /ONCEQL_INTROSPECTION: must be on or off/],
  ])("a wrong %s (%s) stops the server at start, naming the variable", async (name, value, message) => {
    const server = spawnEntry("src/server.ts", [], { ...env, [name]: value });
    expect(await server.exited).toBe(1);
    expect(server.output()).toMatch(message);
  });
});
