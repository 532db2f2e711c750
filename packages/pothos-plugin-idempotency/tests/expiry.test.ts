import { setTimeout as sleep } from "node:timers/promises";
import { expect, test } from "vitest";
import { CREATE_TODO, call, exampleServer } from "./example/server.ts";
import { type ExampleDatabase, forEachDriver, newTenant, recordsOf, todosOf } from "./helpers/example.ts";

const ttl = 1500;

/** Until every record of the tenant has expired, by the database's clock (polled, not slept out). */
async function expired(db: ExampleDatabase, tenant: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const [{ live }] = await db.sql(
      "SELECT count(*)::int AS live FROM onceql_idempotency_records WHERE scope = $1 AND expires_at > now()",
      [tenant],
    );
    if (live === 0) return;
    if (Date.now() > deadline) throw new Error("records did not expire");
    await sleep(100);
  }
}

forEachDriver((db) => {
  test("past the TTL the key runs again as a new record; the same input answers from the row its first run made", async () => {
    const server = exampleServer(await db().runner({ ttl }));
    const tenant = newTenant();
    const first = await call(server, tenant, CREATE_TODO, { input: { clientMutationId: "ttl-1", title: "First" } });
    const same = await call(server, tenant, CREATE_TODO, { input: { clientMutationId: "ttl-2", title: "Kept" } });
    expect(first.body.extensions.idempotency[0].status).toBe("EXECUTED");
    expect(same.body.extensions.idempotency[0].status).toBe("EXECUTED");
    // Within the TTL another title under the key is a reuse.
    const early = await call(server, tenant, CREATE_TODO, { input: { clientMutationId: "ttl-1", title: "Second" } });
    expect(early.body.errors![0].extensions.code).toBe("IDEMPOTENCY_KEY_REUSED");
    const before = await recordsOf(db(), tenant);
    const expiresAt = new Date(before[0].expires_at).getTime();
    expect(expiresAt - new Date(before[0].created_at).getTime()).toBeGreaterThanOrEqual(ttl - 50);
    expect(expiresAt - new Date(before[0].created_at).getTime()).toBeLessThan(ttl + 1_000);

    await expired(db(), tenant);

    // A new operation under the old key: it runs, with ids of its own, as a new record.
    const second = await call(server, tenant, CREATE_TODO, { input: { clientMutationId: "ttl-1", title: "Second" } });
    expect(second.body.errors).toBeUndefined();
    expect(second.body.extensions.idempotency[0].status).toBe("EXECUTED");
    expect(second.body.data.createTodo.todo.id).not.toBe(first.body.data.createTodo.todo.id);
    // The same input again: no second effect; the row the first run made answers it, REPLAYED.
    const retried = await call(server, tenant, CREATE_TODO, { input: { clientMutationId: "ttl-2", title: "Kept" } });
    expect(retried.body.errors).toBeUndefined();
    expect(retried.body.extensions.idempotency[0].status).toBe("REPLAYED");
    expect(retried.body.data).toEqual(same.body.data);

    const after = await recordsOf(db(), tenant);
    expect(after).toHaveLength(2);
    const renewed = after.find((record) => record.client_mutation_id === "ttl-1");
    expect(renewed.fingerprint).not.toBe(before.find((record) => record.client_mutation_id === "ttl-1").fingerprint);
    expect(new Date(renewed.created_at).getTime()).toBeGreaterThanOrEqual(expiresAt);
    expect((await todosOf(db(), tenant)).map((todo) => todo.title).sort()).toEqual(["First", "Kept", "Second"]);
  });

  test("sweep() deletes expired records and rolls their counts into the daily stats", async () => {
    const runner = await db().runner({ ttl });
    const server = exampleServer(runner);
    const tenant = newTenant();
    const variables = { input: { clientMutationId: "sweep-1", title: "Swept" } };
    await call(server, tenant, CREATE_TODO, variables);
    expect((await call(server, tenant, CREATE_TODO, variables)).body.extensions.idempotency[0].status).toBe("REPLAYED");
    const conflict = await call(server, tenant, CREATE_TODO, { input: { clientMutationId: "sweep-1", title: "Other" } });
    expect(conflict.body.errors![0].extensions.code).toBe("IDEMPOTENCY_KEY_REUSED");
    await call(server, tenant, CREATE_TODO, { input: { clientMutationId: "sweep-2", title: "Also swept" } });
    expect(await recordsOf(db(), tenant)).toHaveLength(2);

    await expired(db(), tenant);
    const swept = await runner.sweep();
    expect(swept.records).toBeGreaterThanOrEqual(2);

    expect(await recordsOf(db(), tenant)).toHaveLength(0);
    const stats = await db().sql("SELECT * FROM onceql_idempotency_daily_stats WHERE scope = $1", [tenant]);
    expect(stats).toHaveLength(1);
    expect(stats[0]).toMatchObject({ mutation: "createTodo", executions: 2, replays: 1, conflicts: 1 });
    // The todos themselves are the adopter's: untouched.
    expect(await todosOf(db(), tenant)).toHaveLength(2);
    // Nothing left to sweep for this tenant: a second sweep adds nothing.
    await runner.sweep();
    const again = await db().sql("SELECT * FROM onceql_idempotency_daily_stats WHERE scope = $1", [tenant]);
    expect(again[0]).toMatchObject({ executions: 2, replays: 1, conflicts: 1 });
  });
});
