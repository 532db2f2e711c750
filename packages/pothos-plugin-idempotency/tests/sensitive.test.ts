import { randomBytes } from "node:crypto";
import { expect, test } from "vitest";
import { CREATE_API_TOKEN, call, exampleServer } from "./example/server.ts";
import { forEachDriver, newTenant, recordsOf, todosOf } from "./helpers/example.ts";

const encryptionKey = randomBytes(32).toString("base64");

forEachDriver((db) => {
  test("a sensitive mutation's stored outcome and input hold no plaintext; a replay opens them", async () => {
    const server = exampleServer(await db().runner({ encryptionKey }));
    const tenant = newTenant();
    const label = "ci-deploy-label";
    const variables = { input: { clientMutationId: "token-1", label } };

    const first = await call(server, tenant, CREATE_API_TOKEN, variables);
    expect(first.body.errors).toBeUndefined();
    const token: string = first.body.data.createApiToken.token;
    expect(token).toMatch(/^secret_[0-9a-f]{32}$/);

    const [record] = await recordsOf(db(), tenant);
    expect(record.encrypted).toBe(true);
    for (const column of [record.outcome, record.input]) {
      expect(typeof column).toBe("string");
      expect(column).not.toContain(token);
      expect(column).not.toContain(token.slice("secret_".length));
      expect(column).not.toContain(label);
    }

    // Another server with the same key opens the stored outcome: the same token.
    const replay = await call(exampleServer(await db().runner({ encryptionKey })), tenant, CREATE_API_TOKEN, variables);
    expect(replay.body.errors).toBeUndefined();
    expect(replay.body.data).toEqual(first.body.data);
    expect(replay.body.extensions.idempotency[0].status).toBe("REPLAYED");

    // A reuse still names what differs (the stored input opens with the key).
    const reused = await call(server, tenant, CREATE_API_TOKEN, { input: { clientMutationId: "token-1", label: "other" } });
    expect(reused.body.errors![0].extensions).toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED", differingFields: ["label"] });
    expect(await todosOf(db(), tenant)).toHaveLength(1);
  });

  test("without encryptionKey a sensitive mutation fails loudly and stores nothing", async () => {
    const runner = await db().runner();
    const server = exampleServer(runner);
    const tenant = newTenant();
    const failed = await call(server, tenant, CREATE_API_TOKEN, { input: { clientMutationId: "token-2", label: "no key" } });
    expect(failed.body.data.createApiToken).toBeNull();
    expect(failed.body.errors).toHaveLength(1);
    expect(failed.body.errors![0].extensions.outcome).toBe("NOT_STORED");
    expect(await recordsOf(db(), tenant)).toHaveLength(0);
    expect(await todosOf(db(), tenant)).toHaveLength(0);

    // Loudly: what the runner throws (yoga masks it from the client) says why.
    const { fingerprintOf } = await import("@onceql/pothos-plugin-idempotency");
    const { fingerprint, canonical } = fingerprintOf("createApiToken", { label: "no key" });
    await expect(
      runner.run({
        scope: tenant,
        clientMutationId: "token-3",
        mutation: "createApiToken",
        fingerprint,
        canonicalInput: canonical,
        sensitive: true,
        errorClasses: [],
        execute: async () => ({ token: "secret_never_stored" }),
      }),
    ).rejects.toThrow(/encryptionKey/);
    expect(await recordsOf(db(), tenant)).toHaveLength(0);
  });
});
