import { expect, test } from "vitest";
import { MAX_KEPT_INPUT_CHARS } from "../src/fingerprint.ts";
import { CREATE_TODO, call, exampleServer } from "./example/server.ts";
import { forEachDriver, newTenant, recordsOf } from "./helpers/example.ts";

/**
 * A record keeps of its input only what a reuse of its key needs to say what changed: the input
 * itself beside a payload, digests of its top-level fields beside a refusal (a declared error) or
 * past MAX_KEPT_INPUT_CHARS. A replay needs only the fingerprint.
 */
forEachDriver((db) => {
  test("a refused input is kept as digests, never whole; a reuse still names the field that changed", async () => {
    const server = exampleServer(await db().runner());
    const tenant = newTenant();
    const secret = `Dup ${"x".repeat(1000)}`;
    await call(server, tenant, CREATE_TODO, { input: { clientMutationId: "kept-0", title: secret } });
    const refused = await call(server, tenant, CREATE_TODO, { input: { clientMutationId: "kept-1", title: secret } });
    expect(refused.body.data.createTodo.__typename).toBe("TitleTakenError");

    const [executed, refusedRecord] = await recordsOf(db(), tenant);
    expect(executed.input).toBe(JSON.stringify({ title: secret }));
    expect(refusedRecord.input).not.toContain("Dup");
    expect(refusedRecord.input.length).toBeLessThan(100);

    const replay = await call(server, tenant, CREATE_TODO, { input: { clientMutationId: "kept-1", title: secret } });
    expect(replay.body.extensions.idempotency[0].status).toBe("REPLAYED");
    expect(replay.body.data).toEqual(refused.body.data);
    const reused = await call(server, tenant, CREATE_TODO, { input: { clientMutationId: "kept-1", title: "Other" } });
    expect(reused.body.errors![0].extensions).toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED", differingFields: ["title"] });
  });

  test(`an executed input past ${MAX_KEPT_INPUT_CHARS} characters is kept as digests too`, async () => {
    const server = exampleServer(await db().runner());
    const tenant = newTenant();
    const long = "y".repeat(MAX_KEPT_INPUT_CHARS);
    const first = await call(server, tenant, CREATE_TODO, { input: { clientMutationId: "long-1", title: long } });
    expect(first.body.data.createTodo.__typename).toBe("CreateTodoPayload");
    const [record] = await recordsOf(db(), tenant);
    expect(record.input.length).toBeLessThan(100);
    const reused = await call(server, tenant, CREATE_TODO, { input: { clientMutationId: "long-1", title: `${long}!` } });
    expect(reused.body.errors![0].extensions).toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED", differingFields: ["title"] });
    const replay = await call(server, tenant, CREATE_TODO, { input: { clientMutationId: "long-1", title: long } });
    expect(replay.body.data).toEqual(first.body.data);
  });
});
