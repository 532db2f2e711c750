import { expect, test } from "vitest";
import { CREATE_TODO, call, exampleServer, IMPORT_TODO } from "./example/server.ts";
import { forEachDriver, newTenant, recordsOf, todosOf } from "./helpers/example.ts";

forEachDriver((db) => {
  test("a UserError (TitleTakenError) is stored and replayed as the same typed union member", async () => {
    const server = exampleServer(await db().runner());
    const tenant = newTenant();
    await call(server, tenant, CREATE_TODO, { input: { clientMutationId: "taken-0", title: "Dup" } });

    const variables = { input: { clientMutationId: "taken-1", title: "Dup" } };
    const first = await call(server, tenant, CREATE_TODO, variables);
    expect(first.body.errors).toBeUndefined();
    expect(first.body.data.createTodo).toEqual({
      __typename: "TitleTakenError",
      message: 'A todo titled "Dup" already exists',
      code: "TITLE_TAKEN",
      title: "Dup",
    });
    expect(first.body.extensions.idempotency[0].status).toBe("EXECUTED");
    const records = await recordsOf(db(), tenant);
    expect(records.map((record) => record.client_mutation_id)).toEqual(["taken-0", "taken-1"]);

    // Even once the title is free again, the key answers what it answered: the stored error.
    await db().sql("DELETE FROM todos WHERE scope = $1", [tenant]);
    for (const again of [server, exampleServer(await db().runner())]) {
      const retry = await call(again, tenant, CREATE_TODO, variables);
      expect(retry.body.data).toEqual(first.body.data);
      expect(retry.body.extensions.idempotency[0].status).toBe("REPLAYED");
      expect(retry.replayedHeader).toBe("true");
    }
    expect(await todosOf(db(), tenant)).toHaveLength(0);
  });

  test("an unexpected failure stores nothing (NOT_STORED), leaves no row, and the same key then runs afresh", async () => {
    let failing = true;
    const server = exampleServer(await db().runner(), { failImport: () => failing });
    const tenant = newTenant();
    const variables = { input: { clientMutationId: "flaky-1", title: "Imported" } };

    const failed = await call(server, tenant, IMPORT_TODO, variables);
    expect(failed.body.data.importTodo).toBeNull();
    expect(failed.body.errors).toHaveLength(1);
    expect(failed.body.errors![0].path).toEqual(["importTodo"]);
    expect(failed.body.errors![0].extensions.outcome).toBe("NOT_STORED");
    expect(failed.body.extensions?.idempotency).toBeUndefined();
    expect(await todosOf(db(), tenant)).toHaveLength(0);
    expect(await recordsOf(db(), tenant)).toHaveLength(0);

    failing = false;
    const retry = await call(server, tenant, IMPORT_TODO, variables);
    expect(retry.body.errors).toBeUndefined();
    expect(retry.body.extensions.idempotency[0]).toMatchObject({ clientMutationId: "flaky-1", status: "EXECUTED" });
    expect(await todosOf(db(), tenant)).toHaveLength(1);
    expect(await recordsOf(db(), tenant)).toHaveLength(1);
  });

  test('"boom" fails every time, and every time leaves nothing', async () => {
    const server = exampleServer(await db().runner());
    const tenant = newTenant();
    for (let i = 0; i < 2; i++) {
      const failed = await call(server, tenant, IMPORT_TODO, { input: { clientMutationId: "boom-1", title: "boom" } });
      expect(failed.body.errors![0].extensions.outcome).toBe("NOT_STORED");
    }
    expect(await todosOf(db(), tenant)).toHaveLength(0);
    expect(await recordsOf(db(), tenant)).toHaveLength(0);
  });
});
