import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CREATE_IDENTITY, CREATE_KEY, IDEMPOTENCY_RECORD } from "../helpers/operations.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

/** Moves a record's expiry into the past, as if its retention had run out. */
async function expire(clientMutationId: string) {
  await t.db.prisma.idempotencyRecord.updateMany({ where: { clientMutationId }, data: { expiresAt: new Date(Date.now() - 1_000) } });
}

describe("retention", () => {
  it("keeps the record for ONCEQL_IDEMPOTENCY_TTL", async () => {
    await t.gql(CREATE_KEY, { input: { clientMutationId: "ttl-1" } });
    const { body } = await t.gql(IDEMPOTENCY_RECORD, { key: "ttl-1" });
    const { completedAt, expiresAt } = body.data.idempotencyRecord;
    expect(Date.parse(expiresAt) - Date.parse(completedAt)).toBe(24 * 3600 * 1000);
  });

  it("an expired key with the same input runs nothing again; its old counts rolled into the daily totals", async () => {
    // The smallest TTL the server accepts is 5m; the app itself takes any, so this one uses 1.5 s.
    const short = await startTestApp({ db: t.db, config: { idempotencyTtlMs: 1_500 } });
    try {
      const input = { clientMutationId: "expire-1", name: "expiring" };
      const first = await short.gql(CREATE_KEY, { input });
      const replay = await short.gql(CREATE_KEY, { input });
      expect(replay.body.extensions.idempotency[0].status).toBe("REPLAYED");
      await sleep(1_600);
      expect((await short.gql(IDEMPOTENCY_RECORD, { key: "expire-1" })).body.data.idempotencyRecord).toBeNull();

      // The key it made is found by its id; its secret, kept only as a hash, is not shown again.
      const again = await short.gql(CREATE_KEY, { input });
      expect(again.body.extensions.idempotency[0].status).toBe("REPLAYED");
      expect(again.body.data.createKey).toMatchObject({
        __typename: "SecretNotKeptError",
        code: "SECRET_NOT_KEPT",
        key: { id: first.body.data.createKey.key.id },
      });
      expect(again.text).not.toContain(first.body.data.createKey.secret);
      expect(await t.db.prisma.apiKey.count({ where: { name: "expiring" } })).toBe(1);
      const record = await t.db.prisma.idempotencyRecord.findFirstOrThrow({ where: { clientMutationId: "expire-1" } });
      expect(record.replayCount).toBe(0);
      const [stat] = await t.db.prisma.idempotencyDailyStat.findMany({ where: { workspaceId: record.workspaceId, mutation: "createKey" } });
      expect(stat).toMatchObject({ executions: 1, replays: 1 });
    } finally {
      await short.close();
    }
  });

  it("an expired key with another input is a new operation, with ids of its own", async () => {
    const short = await startTestApp({ db: t.db, config: { idempotencyTtlMs: 1_500 } });
    try {
      const first = await short.gql(CREATE_KEY, { input: { clientMutationId: "expire-3", name: "one" } });
      await sleep(1_600);
      const other = await short.gql(CREATE_KEY, { input: { clientMutationId: "expire-3", name: "two" } });
      expect(other.body.extensions.idempotency[0].status).toBe("EXECUTED");
      expect(other.body.data.createKey.key).toMatchObject({ name: "two" });
      expect(other.body.data.createKey.key.id).not.toBe(first.body.data.createKey.key.id);
      expect(other.body.data.createKey.secret).not.toBe(first.body.data.createKey.secret);
    } finally {
      await short.close();
    }
  });

  it("a server that cached an outcome does not replay it after its key ran anew on another server", async () => {
    const [a, b] = [
      await startTestApp({ db: t.db, config: { idempotencyTtlMs: 1_500 } }),
      await startTestApp({ db: t.db, config: { idempotencyTtlMs: 60_000 } }),
    ];
    try {
      const first = await a.gql(CREATE_KEY, { input: { clientMutationId: "expire-2", name: "cached-here" } }, { token: t.token });
      await sleep(1_600);
      const input = { clientMutationId: "expire-2", name: "cached-elsewhere" };
      const rerun = await b.gql(CREATE_KEY, { input }, { token: t.token });
      expect(rerun.body.extensions.idempotency[0].status).toBe("EXECUTED");
      const fromA = await a.gql(CREATE_KEY, { input }, { token: t.token });
      expect(fromA.body.extensions.idempotency[0].status).toBe("REPLAYED");
      expect(fromA.body.data).toEqual(rerun.body.data);
      expect(fromA.body.data).not.toEqual(first.body.data);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("a sweep removes expired records and the daily counters survive it", async () => {
    const input = { clientMutationId: "sweep-1", externalId: "sweepy" };
    await t.gql(CREATE_IDENTITY, { input });
    await t.gql(CREATE_IDENTITY, { input });
    await t.gql(CREATE_IDENTITY, { input });
    await t.gql(CREATE_IDENTITY, { input: { ...input, externalId: "other" } });
    await t.gql(CREATE_IDENTITY, { input: { clientMutationId: "sweep-2", externalId: "kept" } });
    await expire("sweep-1");

    const swept = await t.app.sweep();
    expect(swept.records).toBeGreaterThanOrEqual(1);
    expect(await t.db.prisma.idempotencyRecord.count({ where: { clientMutationId: "sweep-1" } })).toBe(0);
    expect(await t.db.prisma.idempotencyRecord.count({ where: { clientMutationId: "sweep-2" } })).toBe(1);

    const [stat] = await t.db.prisma.idempotencyDailyStat.findMany({ where: { mutation: "createIdentity" } });
    expect(stat).toMatchObject({ executions: 1, replays: 2, conflicts: 1 });
    expect(stat!.day.toISOString().slice(0, 10)).toBe(new Date().toISOString().slice(0, 10));

    // A second sweep finds nothing left to count: nothing is counted twice.
    await t.app.sweep();
    const [again] = await t.db.prisma.idempotencyDailyStat.findMany({ where: { mutation: "createIdentity" } });
    expect(again).toEqual(stat);
  });

  it("drops daily counters only once they are two weeks old", async () => {
    const workspaceId = (await t.db.prisma.workspace.findFirstOrThrow()).id;
    const day = (daysAgo: number) => new Date(`${new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10)}T00:00:00Z`);
    await t.db.prisma.idempotencyDailyStat.createMany({
      data: [
        { workspaceId, day: day(8), mutation: "old-but-kept", executions: 3 },
        { workspaceId, day: day(15), mutation: "too-old", executions: 3 },
      ],
    });
    await t.app.sweep();
    const left = await t.db.prisma.idempotencyDailyStat.findMany({ where: { mutation: { in: ["old-but-kept", "too-old"] } } });
    expect(left.map((row) => row.mutation)).toEqual(["old-but-kept"]);
  });
});
