import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDatabase, postgresAvailable } from "../helpers/databases.ts";
import { CREATE_IDENTITY, CREATE_KEY } from "../helpers/operations.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

/**
 * A key reused with another input while its first attempt still runs: IDEMPOTENCY_KEY_REUSED at
 * once, saying so, never "its stored outcome is unchanged" when nothing is stored yet. Then, once
 * the first has committed, the same reuse is told about the stored outcome and what differs.
 */
describe.skipIf(!postgresAvailable())("a key reused while its first attempt runs", () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let servers: TestApp[];
  let slowMs = 0;
  const faults = { beforeCommit: () => sleep(slowMs) };

  beforeAll(async () => {
    database = await createPostgresDatabase();
    servers = [await startTestApp({ databaseUrl: database.url, faults }), await startTestApp({ databaseUrl: database.url, faults })];
  });
  /** Until `key`'s first attempt holds it (what idempotencyRecord shows as IN_PROGRESS, from any server). */
  async function untilRunning(key: string) {
    for (let tries = 0; tries < 100; tries++) {
      const record = await servers[1]!.gql(
        "query($k: String!) { idempotencyRecord(clientMutationId: $k) { status } }",
        { k: key },
        {
          token: servers[0]!.token,
        },
      );
      if (record.body.data.idempotencyRecord?.status === "IN_PROGRESS") return;
      await sleep(20);
    }
    throw new Error(`${key} never seen running`);
  }

  afterAll(async () => {
    await Promise.all(servers?.map((server) => server.close()) ?? []);
    await database?.drop();
  });

  it("with another input, on this server and another: says another attempt is running; after it commits, says what differs", async () => {
    slowMs = 1_500;
    const first = servers[0]!.gql(CREATE_KEY, { input: { clientMutationId: "running-1", name: "x" } });
    await untilRunning("running-1");
    const token = servers[0]!.token;
    const reuses = await Promise.all([
      servers[0]!.gql(CREATE_KEY, { input: { clientMutationId: "running-1", name: "y" } }),
      servers[1]!.gql(CREATE_KEY, { input: { clientMutationId: "running-1", name: "y" } }, { token }),
    ]);
    slowMs = 0;
    for (const reuse of reuses) {
      expect(reuse.body.data.createKey).toBeNull();
      expect(reuse.body.errors[0]).toMatchObject({
        message:
          "Another attempt with a different input is running under this clientMutationId; nothing was executed for this one. Use a new clientMutationId for a new operation.",
        extensions: { code: "IDEMPOTENCY_KEY_REUSED", originalMutation: "createKey", differingFields: [] },
      });
    }
    expect((await first).body.data.createKey.__typename).toBe("CreateKeyPayload");

    const after = await servers[1]!.gql(CREATE_KEY, { input: { clientMutationId: "running-1", name: "y" } }, { token });
    expect(after.body.errors[0]).toMatchObject({
      message:
        "This clientMutationId was already used with different name; its stored outcome is unchanged. Use a new clientMutationId for a new operation.",
      extensions: { code: "IDEMPOTENCY_KEY_REUSED", originalMutation: "createKey", differingFields: ["name"] },
    });
    expect(await servers[0]!.db.prisma.apiKey.count({ where: { name: { in: ["x", "y"] } } })).toBe(1);
  });

  it("on another mutation: names the one running", async () => {
    slowMs = 1_500;
    const first = servers[0]!.gql(CREATE_KEY, { input: { clientMutationId: "running-2", name: "x" } });
    await untilRunning("running-2");
    const reuse = await servers[1]!.gql(
      CREATE_IDENTITY,
      { input: { clientMutationId: "running-2", externalId: "running-2" } },
      { token: servers[0]!.token },
    );
    slowMs = 0;
    expect(reuse.body.errors[0]).toMatchObject({
      message:
        "Another attempt on another mutation (createKey) is running under this clientMutationId; nothing was executed for this one. Use a new clientMutationId for a new operation.",
      extensions: { code: "IDEMPOTENCY_KEY_REUSED", originalMutation: "createKey", differingFields: [] },
    });
    await first;
  });

  // createIdentity starts before its claim answers, its INSERT sent behind the claim: the guard
  // keeps that INSERT from running for a key another attempt holds. Unguarded, the reuse's INSERT
  // of the same externalId would wait on the first attempt's uncommitted row, and answer only
  // after the first commits.
  it("with another input whose first statement would wait on the running attempt's row: refused before that attempt commits", async () => {
    slowMs = 3_000;
    const token = servers[0]!.token;
    const first = servers[0]!.gql(CREATE_IDENTITY, { input: { clientMutationId: "guarded-1", externalId: "guarded-1" } });
    await untilRunning("guarded-1");
    const order: string[] = [];
    const firstDone = first.then(() => order.push("first"));
    const reuse = await servers[1]!.gql(
      CREATE_IDENTITY,
      { input: { clientMutationId: "guarded-1", externalId: "guarded-1", meta: { other: true } } },
      { token },
    );
    order.push("reuse");
    slowMs = 0;
    expect(reuse.body.errors[0]).toMatchObject({ extensions: { code: "IDEMPOTENCY_KEY_REUSED", originalMutation: "createIdentity" } });
    await firstDone;
    expect(order).toEqual(["reuse", "first"]);
    expect((await first).body.data.createIdentity.__typename).toBe("CreateIdentityPayload");
    expect(await servers[0]!.db.prisma.identity.findMany({ where: { externalId: "guarded-1" }, select: { meta: true } })).toEqual([
      { meta: null },
    ]);
  });
});
