import { setTimeout as sleep } from "node:timers/promises";
import { expect, test } from "vitest";
import { CREATE_TODO, call, exampleServer } from "./example/server.ts";
import { forEachDriver, newTenant, onPostgres, recordsOf, todosOf } from "./helpers/example.ts";

const DUPLICATES = 20;

forEachDriver((db, kind) => {
  test(`${DUPLICATES} concurrent duplicates${onPostgres(kind) ? " on two servers" : ""}: one row, one EXECUTED, the rest REPLAYED`, async () => {
    // The first attempt lingers inside its transaction, so that every duplicate arrives while it runs.
    const hooks = { afterInsert: () => sleep(150) };
    // PostgreSQL: two runners with pools of their own over one database stand for two servers.
    const servers = onPostgres(kind)
      ? [exampleServer(await db().runner({ waitMs: 30_000 }), hooks), exampleServer(await db().runner({ waitMs: 30_000 }), hooks)]
      : [exampleServer(await db().runner({ waitMs: 30_000 }), hooks)];
    const tenant = newTenant();
    const variables = { input: { clientMutationId: "race-1", title: "Only once" } };

    const responses = await Promise.all(
      Array.from({ length: DUPLICATES }, (_, i) => call(servers[i % servers.length]!, tenant, CREATE_TODO, variables)),
    );

    for (const response of responses) expect(response.body.errors).toBeUndefined();
    const statuses = responses.map((response) => response.body.extensions.idempotency[0].status);
    expect(statuses.filter((status) => status === "EXECUTED")).toHaveLength(1);
    expect(statuses.filter((status) => status === "REPLAYED")).toHaveLength(DUPLICATES - 1);
    const ids = new Set(responses.map((response) => response.body.data.createTodo.todo.id));
    expect(ids.size).toBe(1);
    for (const response of responses) expect(response.body.data).toEqual(responses[0]!.body.data);

    const todos = await todosOf(db(), tenant);
    expect(todos).toHaveLength(1);
    expect(todos[0].id).toBe([...ids][0]);
    expect(await recordsOf(db(), tenant)).toHaveLength(1);
  });

  test("a duplicate that waits longer than waitMs is IDEMPOTENCY_KEY_IN_USE, and nothing runs twice", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let reached!: () => void;
    const inside = new Promise<void>((resolve) => (reached = resolve));
    const hooks = {
      afterInsert: async () => {
        reached();
        await held;
      },
    };
    const first = exampleServer(await db().runner({ waitMs: 200 }), hooks);
    const second = onPostgres(kind) ? exampleServer(await db().runner({ waitMs: 200 }), hooks) : first;
    const tenant = newTenant();
    const variables = { input: { clientMutationId: "slow-1", title: "Slow" } };
    const running = call(first, tenant, CREATE_TODO, variables);
    await inside;
    const waited = await call(second, tenant, CREATE_TODO, variables);
    expect(waited.body.errors![0].extensions).toMatchObject({ code: "IDEMPOTENCY_KEY_IN_USE", outcome: "NOT_STORED" });
    expect(waited.body.errors![0].extensions.retryAfterMs).toBeGreaterThan(0);
    release();
    expect((await running).body.extensions.idempotency[0].status).toBe("EXECUTED");
    expect((await call(second, tenant, CREATE_TODO, variables)).body.extensions.idempotency[0].status).toBe("REPLAYED");
    expect(await todosOf(db(), tenant)).toHaveLength(1);
  });
});
