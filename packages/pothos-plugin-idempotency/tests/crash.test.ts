import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CREATE_TODO, call, exampleServer } from "./example/server.ts";
import { type ExampleDatabase, newTenant, openExampleDatabase, recordsOf, todosOf } from "./helpers/example.ts";
import { postgresAvailable } from "./helpers/postgres.ts";

// A process that dies mid-attempt takes its connection with it: PostgreSQL alone can show that.
describe.skipIf(!postgresAvailable)("postgres", () => {
  let db: ExampleDatabase;
  beforeAll(async () => {
    db = await openExampleDatabase("postgres");
  });
  afterAll(async () => {
    await db?.close();
  });

  test("a crashed process's key is free at once: its connection killed, a retry runs at once and stores one row", async () => {
    const tenant = newTenant();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let reached!: () => void;
    const inside = new Promise<void>((resolve) => (reached = resolve));
    const waitMs = 30_000;
    const crashing = exampleServer(await db.runner({ waitMs }), {
      afterInsert: async (_title, scope) => {
        if (scope !== tenant) return;
        reached();
        await held;
      },
    });
    const variables = { input: { clientMutationId: "crash-1", title: "Survives" } };
    const doomed = call(crashing, tenant, CREATE_TODO, variables);
    await inside;

    // The attempt's session, named after its mutation while it holds the key.
    const sessions = await db.sql("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'onceql:%'", [db.name]);
    expect(sessions).toHaveLength(1);
    expect((await db.sql("SELECT pg_terminate_backend($1) AS done", [sessions[0].pid]))[0].done).toBe(true);

    // Another server (the crashed one's memory is gone with it) retries the same key.
    const survivor = exampleServer(await db.runner({ waitMs }));
    const started = Date.now();
    const retry = await call(survivor, tenant, CREATE_TODO, variables);
    const elapsed = Date.now() - started;
    expect(retry.body.errors).toBeUndefined();
    expect(retry.body.extensions.idempotency[0].status).toBe("EXECUTED");
    // At once: not after waiting out the key's lock (waitMs) nor any lease.
    expect(elapsed).toBeLessThan(waitMs / 3);

    // The dead attempt, let go, cannot commit: it answers an error, and stores nothing of its own.
    release();
    const lost = await doomed;
    expect(lost.body.errors).toHaveLength(1);
    expect(["NOT_STORED", "UNKNOWN"]).toContain(lost.body.errors![0].extensions.outcome);
    expect(lost.body.extensions?.idempotency).toBeUndefined();

    const todos = await todosOf(db, tenant);
    expect(todos).toHaveLength(1);
    expect(todos[0].id).toBe(retry.body.data.createTodo.todo.id);
    const records = await recordsOf(db, tenant);
    expect(records).toHaveLength(1);
    expect(records[0].status).toBe("COMPLETED");
    // And the key replays what the retry stored.
    const again = await call(survivor, tenant, CREATE_TODO, variables);
    expect(again.body.data).toEqual(retry.body.data);
    expect(again.body.extensions.idempotency[0].status).toBe("REPLAYED");
  });
});
