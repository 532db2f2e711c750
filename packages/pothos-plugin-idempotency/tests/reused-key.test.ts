import { expect, test } from "vitest";
import { CREATE_TODO, call, exampleServer, IMPORT_TODO } from "./example/server.ts";
import { forEachDriver, newTenant, recordsOf, todosOf } from "./helpers/example.ts";

forEachDriver((db) => {
  test("the same key with another title is IDEMPOTENCY_KEY_REUSED, naming title; nothing is written", async () => {
    const server = exampleServer(await db().runner());
    const tenant = newTenant();
    const first = await call(server, tenant, CREATE_TODO, { input: { clientMutationId: "reuse-1", title: "Original" } });
    expect(first.body.data.createTodo.__typename).toBe("CreateTodoPayload");
    const [before] = await recordsOf(db(), tenant);

    const reused = await call(server, tenant, CREATE_TODO, { input: { clientMutationId: "reuse-1", title: "Changed" } });
    expect(reused.body.data?.createTodo ?? null).toBeNull();
    expect(reused.body.errors).toHaveLength(1);
    expect(reused.body.errors![0].extensions).toMatchObject({
      code: "IDEMPOTENCY_KEY_REUSED",
      originalMutation: "createTodo",
      differingFields: ["title"],
      outcome: "NOT_STORED",
    });
    expect(reused.body.extensions?.idempotency).toBeUndefined();
    expect(reused.replayedHeader).toBeNull();

    // On another mutation: the original mutation is named, and no fields are compared.
    const elsewhere = await call(server, tenant, IMPORT_TODO, { input: { clientMutationId: "reuse-1", title: "Original" } });
    expect(elsewhere.body.errors![0].extensions).toMatchObject({
      code: "IDEMPOTENCY_KEY_REUSED",
      originalMutation: "createTodo",
      differingFields: [],
    });

    const todos = await todosOf(db(), tenant);
    expect(todos.map((todo) => todo.title)).toEqual(["Original"]);
    const records = await recordsOf(db(), tenant);
    expect(records).toHaveLength(1);
    expect(records[0].fingerprint).toBe(before.fingerprint);
    expect(records[0].outcome).toBe(before.outcome);

    // The stored outcome is untouched: the original input still replays it.
    const replay = await call(server, tenant, CREATE_TODO, { input: { clientMutationId: "reuse-1", title: "Original" } });
    expect(replay.body.data).toEqual(first.body.data);
  });

  test("another tenant (scope) with the same key is a separate key", async () => {
    const server = exampleServer(await db().runner());
    const [alice, bob] = [newTenant(), newTenant()];
    const a = await call(server, alice, CREATE_TODO, { input: { clientMutationId: "shared-key", title: "Alice's" } });
    const b = await call(server, bob, CREATE_TODO, { input: { clientMutationId: "shared-key", title: "Bob's" } });
    expect(a.body.extensions.idempotency[0].status).toBe("EXECUTED");
    expect(b.body.errors).toBeUndefined();
    expect(b.body.extensions.idempotency[0].status).toBe("EXECUTED");
    expect(b.body.data.createTodo.todo.title).toBe("Bob's");
    // Even the same input in another scope runs again, with an id of its own.
    const c = newTenant();
    const same = await call(server, c, CREATE_TODO, { input: { clientMutationId: "shared-key", title: "Alice's" } });
    expect(same.body.extensions.idempotency[0].status).toBe("EXECUTED");
    expect(same.body.data.createTodo.todo.id).not.toBe(a.body.data.createTodo.todo.id);
    for (const tenant of [alice, bob, c]) {
      expect(await todosOf(db(), tenant)).toHaveLength(1);
      expect(await recordsOf(db(), tenant)).toHaveLength(1);
    }
  });

  test("a malformed key is IDEMPOTENCY_KEY_INVALID and runs nothing", async () => {
    const server = exampleServer(await db().runner());
    const tenant = newTenant();
    const bad = await call(server, tenant, CREATE_TODO, { input: { clientMutationId: "has space", title: "Nope" } });
    expect(bad.body.errors![0].extensions).toMatchObject({ code: "IDEMPOTENCY_KEY_INVALID", outcome: "NOT_STORED" });
    expect(await todosOf(db(), tenant)).toHaveLength(0);
    expect(await recordsOf(db(), tenant)).toHaveLength(0);
  });
});
