import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/database.ts";
import { createPostgresDatabase, postgresAvailable } from "../helpers/databases.ts";
import { startCountingApp } from "../helpers/query-log.ts";

const LIMIT = 30;
const FLOOD = 300;
/** The statements one token lookup may take (the token's row, its workspace). */
const PER_LOOKUP = 2;

/** A token as onceql issues them, for a workspace that may or may not exist: nothing about it gives it away. */
const randomToken = (workspaceId: string = randomUUID()) =>
  `oq_ws_${workspaceId.replaceAll("-", "")}_${randomBytes(24).toString("base64url")}`;

describe.runIf(postgresAvailable())("bad tokens", () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let t: Awaited<ReturnType<typeof startCountingApp>>;
  let url: string;

  beforeAll(async () => {
    database = await createPostgresDatabase();
    // Behind one proxy (X-Forwarded-For), so the test can speak from several client addresses.
    t = await startCountingApp({
      config: { trustedProxyHops: 1, authFailureLimit: LIMIT },
      open: (onQuery) => openDatabase({ databaseUrl: database.url, poolSize: 4, onQuery }),
    });
    url = await t.listen();
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await database?.drop();
  });

  const post = async (token: string, from: string) => {
    const response = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}`, "x-forwarded-for": from },
      body: JSON.stringify({ query: "{ __typename }" }),
    });
    await response.text();
    return { status: response.status, retryAfter: response.headers.get("retry-after") };
  };

  it(`a flood of ${FLOOD} random tokens from one address costs at most ${LIMIT} lookups and ends in 429 with Retry-After; other addresses are served`, async () => {
    const workspaceId = (await t.db.prisma.workspace.findFirstOrThrow()).id;
    const tokens = Array.from({ length: FLOOD }, (_, i) => randomToken(i % 2 ? workspaceId : undefined));
    const answers: { status: number; retryAfter: string | null }[] = [];
    const statements = await t.statementsDuring(async () => {
      // In bursts, as an attacker sends them: the limit holds for requests in flight together too.
      for (let i = 0; i < FLOOD; i += 50)
        answers.push(...(await Promise.all(tokens.slice(i, i + 50).map((token) => post(token, "203.0.113.7")))));
    });
    expect(statements.length).toBeLessThanOrEqual(LIMIT * PER_LOOKUP);
    expect(answers.filter((answer) => answer.status === 401)).toHaveLength(LIMIT);
    expect(answers.filter((answer) => answer.status === 429)).toHaveLength(FLOOD - LIMIT);
    expect(answers.at(-1)).toEqual({ status: 429, retryAfter: expect.stringMatching(/^[1-9]\d*$/) });
    expect(Number(answers.at(-1)!.retryAfter)).toBeLessThanOrEqual(60);

    // What a client writes into X-Forwarded-For itself comes before what the proxy appended: no way out.
    expect((await post(randomToken(), "192.0.2.99, 203.0.113.7")).status).toBe(429);
    expect(await post(t.token, "198.51.100.1")).toEqual({ status: 200, retryAfter: null });
    expect((await post(randomToken(), "198.51.100.1")).status).toBe(401);
  }, 120_000);

  it("an unknown token sent again and again is looked up once", async () => {
    const token = randomToken();
    const statuses: number[] = [];
    const statements = await t.statementsDuring(async () => {
      for (let i = 0; i < 10; i++) statuses.push((await post(token, "192.0.2.10")).status);
    });
    expect(statuses).toEqual(Array(10).fill(401));
    expect(statements.length).toBeLessThanOrEqual(PER_LOOKUP);
  });

  it("a string that cannot be a token costs no lookup at all", async () => {
    const statements = await t.statementsDuring(async () => {
      for (const token of ["oq_ws_short", "not-a-token", `oq_ws_${"z".repeat(32)}_${"a".repeat(32)}`]) {
        expect((await post(token, "192.0.2.11")).status).toBe(401);
      }
    });
    expect(statements).toEqual([]);
  });
});
