import { expect, test } from "vitest";
import { CREATE_TODO, call, exampleServer } from "./example/server.ts";
import { forEachDriver, newTenant, recordsOf, todosOf } from "./helpers/example.ts";

forEachDriver((db) => {
  test("the first call executes; the same key and input replay it: the same data, REPLAYED, the header, one row", async () => {
    const server = exampleServer(await db().runner());
    const tenant = newTenant();
    const variables = { input: { clientMutationId: "replay-1", title: "Buy milk" } };

    const first = await call(server, tenant, CREATE_TODO, variables);
    expect(first.body.errors).toBeUndefined();
    expect(first.body.data.createTodo).toMatchObject({
      __typename: "CreateTodoPayload",
      clientMutationId: "replay-1",
      todo: { title: "Buy milk" },
    });
    expect(first.body.extensions.idempotency).toEqual([{ field: "createTodo", clientMutationId: "replay-1", status: "EXECUTED" }]);
    expect(first.replayedHeader).toBeNull();

    // A fresh server over the same database: the replay comes from the stored record, not a cache.
    for (const again of [server, exampleServer(await db().runner())]) {
      const retry = await call(again, tenant, CREATE_TODO, variables);
      expect(retry.body.errors).toBeUndefined();
      expect(retry.body.data).toEqual(first.body.data);
      expect(retry.body.extensions.idempotency).toEqual([{ field: "createTodo", clientMutationId: "replay-1", status: "REPLAYED" }]);
      expect(retry.replayedHeader).toBe("true");
    }

    const todos = await todosOf(db(), tenant);
    expect(todos).toHaveLength(1);
    expect(todos[0].id).toBe(first.body.data.createTodo.todo.id);
    const records = await recordsOf(db(), tenant);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ client_mutation_id: "replay-1", mutation: "createTodo", status: "COMPLETED", encrypted: false });
  });

  test("two mutation fields of one request are reported apart, by response key", async () => {
    const server = exampleServer(await db().runner());
    const tenant = newTenant();
    const query = `mutation { a: createTodo(input: { clientMutationId: "two-a", title: "A" }) { __typename }
      b: createTodo(input: { clientMutationId: "two-b", title: "B" }) { __typename } }`;
    const first = await call(server, tenant, query);
    expect(first.body.extensions.idempotency).toEqual([
      { field: "a", clientMutationId: "two-a", status: "EXECUTED" },
      { field: "b", clientMutationId: "two-b", status: "EXECUTED" },
    ]);
    const again = await call(server, tenant, query);
    expect(again.body.extensions.idempotency.map((entry: { status: string }) => entry.status)).toEqual(["REPLAYED", "REPLAYED"]);
    expect(again.replayedHeader).toBe("true");
    expect(await todosOf(db(), tenant)).toHaveLength(2);
  });

  test("Idempotent-Replayed is sent only when every mutation field replayed: not beside one that executed or failed", async () => {
    const server = exampleServer(await db().runner());
    const tenant = newTenant();
    const field = (name: string, key: string) =>
      `${name}: createTodo(input: { clientMutationId: "${key}", title: "${key}" }) { __typename }`;
    await call(server, tenant, `mutation { ${field("a", "mixed-a")} }`);

    const mixed = await call(server, tenant, `mutation { ${field("a", "mixed-a")} ${field("b", "mixed-b")} }`);
    expect(mixed.body.extensions.idempotency.map((entry: { status: string }) => entry.status)).toEqual(["REPLAYED", "EXECUTED"]);
    expect(mixed.replayedHeader).toBeNull();

    const failed = await call(server, tenant, `mutation { ${field("a", "mixed-a")} ${field("b", "has space")} }`);
    expect(failed.body.errors![0].extensions).toMatchObject({ code: "IDEMPOTENCY_KEY_INVALID" });
    expect(failed.replayedHeader).toBeNull();

    const all = await call(server, tenant, `mutation { ${field("a", "mixed-a")} ${field("b", "mixed-b")} }`);
    expect(all.replayedHeader).toBe("true");
  });
});
