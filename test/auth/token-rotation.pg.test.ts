import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOKEN_CACHE_MS } from "../../src/auth/authenticate.ts";
import { createWorkspace } from "../../src/auth/workspaces.ts";
import { createPostgresDatabase, postgresAvailable } from "../helpers/databases.ts";
import { postGraphQL, spawnEntry } from "../helpers/processes.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

const QUERY = "{ __typename }";
/** What a server may take past the stated lifetime to answer: a request's own time on a loaded machine. */
const SLACK_MS = 1_500;

describe.runIf(postgresAvailable())("workspace tokens on two servers of one database", () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  const servers: { app: TestApp; url: string }[] = [];

  beforeAll(async () => {
    database = await createPostgresDatabase();
    for (let i = 0; i < 2; i++) {
      const app = await startTestApp({ databaseUrl: database.url, poolSize: 2 });
      servers.push({ app, url: await app.listen() });
    }
  }, 60_000);
  afterAll(async () => {
    for (const server of servers) await server.app.close();
    await database?.drop();
  });

  /** `npm run cli -- workspace token ...` against the servers' database: its lines and exit code. */
  async function tokenCommand(...args: string[]): Promise<{ code: number | null; lines: string[] }> {
    const cli = spawnEntry("src/cli.ts", ["workspace", "token", ...args], { DATABASE_URL: database.url });
    const code = await cli.exited;
    return { code, lines: cli.output().trim().split("\n") };
  }
  const auditOf = (lines: string[]) => lines.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line));
  const statusOn = async (server: { url: string }, token: string) => (await postGraphQL(server.url, token, QUERY)).status;
  const statusesOf = (token: string) => Promise.all(servers.map((server) => statusOn(server, token)));

  /** Polls until every server answers `status` for `token`, at most `boundMs`; how long it took. */
  async function untilEveryServer(token: string, status: number, boundMs: number): Promise<number> {
    const started = Date.now();
    for (;;) {
      const statuses = await statusesOf(token);
      if (statuses.every((answered) => answered === status)) return Date.now() - started;
      if (Date.now() - started > boundMs) throw new Error(`after ${boundMs} ms the servers answered ${statuses.join(", ")}`);
      await sleep(100);
    }
  }

  it("rotate prints a new token last; the old one works on both servers through the grace, then stops; both audited without a token", async () => {
    const { workspace, token: old } = await createWorkspace(servers[0]!.app.db.prisma, "rotated");
    expect(await statusesOf(old)).toEqual([200, 200]);

    const graceMs = 3_000;
    const rotated = await tokenCommand("rotate", "rotated", "--grace", `${graceMs / 1000}s`);
    const rotatedAt = Date.now();
    expect(rotated.code).toBe(0);
    const fresh = rotated.lines.at(-1)!;
    expect(fresh).toMatch(/^oq_ws_\S+$/);
    expect(fresh).not.toBe(old);
    expect(await statusesOf(fresh)).toEqual([200, 200]);
    expect(await statusesOf(old)).toEqual([200, 200]);

    const [audit, ...others] = auditOf(rotated.lines);
    expect(others).toEqual([]);
    expect(audit).toMatchObject({
      audit: "workspace.token.rotate",
      action: "rotate",
      workspace: { id: workspace.id, name: "rotated" },
      graceMs,
      oldTokens: 1,
      by: { pid: expect.any(Number), host: expect.any(String) },
    });
    expect(rotated.lines.join("\n")).not.toContain(old);
    expect(JSON.stringify(audit)).not.toContain(fresh);

    await untilEveryServer(old, 401, graceMs + TOKEN_CACHE_MS + SLACK_MS);
    expect(Date.now() - rotatedAt).toBeGreaterThanOrEqual(graceMs - SLACK_MS);
    expect(await statusesOf(fresh)).toEqual([200, 200]);
  }, 60_000);

  it("revoke stops every token of the workspace, in its grace or not, on both servers within the token cache's lifetime", async () => {
    const { token: first } = await createWorkspace(servers[0]!.app.db.prisma, "revoked");
    const { token: bystander } = await createWorkspace(servers[0]!.app.db.prisma, "bystander");
    const rotated = await tokenCommand("rotate", "revoked");
    const second = rotated.lines.at(-1)!;
    // Both tokens now in both servers' caches: revocation has to reach past them.
    expect([...(await statusesOf(first)), ...(await statusesOf(second))]).toEqual([200, 200, 200, 200]);

    const revoked = await tokenCommand("revoke", "revoked");
    expect(revoked.code).toBe(0);
    expect(auditOf(revoked.lines)).toEqual([
      expect.objectContaining({
        audit: "workspace.token.revoke",
        action: "revoke",
        workspace: expect.objectContaining({ name: "revoked" }),
        revokedTokens: 2,
      }),
    ]);
    expect(revoked.lines.join("\n")).not.toMatch(/oq_ws_/);

    const tookFirst = await untilEveryServer(first, 401, TOKEN_CACHE_MS + SLACK_MS);
    const tookSecond = await untilEveryServer(second, 401, TOKEN_CACHE_MS + SLACK_MS);
    expect(tookFirst + tookSecond).toBeLessThanOrEqual(TOKEN_CACHE_MS + SLACK_MS);
    const refused = await postGraphQL(servers[1]!.url, second, QUERY);
    expect(refused.body.errors[0].extensions.code).toBe("UNAUTHENTICATED");
    expect(await statusesOf(bystander)).toEqual([200, 200]);

    // A new token after a revocation: the revoked ones stay revoked.
    const reissued = (await tokenCommand("rotate", "revoked")).lines.at(-1)!;
    expect(await statusesOf(reissued)).toEqual([200, 200]);
    expect(await statusesOf(second)).toEqual([401, 401]);
  }, 60_000);

  it("names a workspace that several share by its id, and refuses the ambiguous name saying so", async () => {
    const one = await createWorkspace(servers[0]!.app.db.prisma, "twin");
    await createWorkspace(servers[0]!.app.db.prisma, "twin");
    const ambiguous = await tokenCommand("revoke", "twin");
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.lines.at(-1)).toMatch(/^onceql: 2 workspaces are named "twin": name one by its id/);
    expect(await statusesOf(one.token)).toEqual([200, 200]);
    expect((await tokenCommand("revoke", one.workspace.id)).code).toBe(0);
    await untilEveryServer(one.token, 401, TOKEN_CACHE_MS + SLACK_MS);
  }, 60_000);
});
