import { createCipheriv, createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { createPostgresDatabase, postgresAvailable } from "../helpers/databases.ts";
import { CREATE_KEY } from "../helpers/operations.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

const keyId = (key: Buffer) => createHash("sha256").update(key).digest("hex").slice(0, 8);

/**
 * ONCEQL_ENCRYPTION_KEYS rotates the key that seals outcomes holding secrets (createKey's): the
 * first key seals, and every key listed opens what it sealed. Rotated under traffic, on two
 * servers sharing one database, every replay still opens, whichever key sealed it.
 */
describe.skipIf(!postgresAvailable)("encryption keys rotate (PostgreSQL)", () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  let before: TestApp;
  let after: TestApp;

  beforeAll(async () => {
    database = await createPostgresDatabase();
    before = await startTestApp({ databaseUrl: database.url, poolSize: 4, encryptionKey: oldKey });
  });
  afterAll(async () => {
    await before?.close();
    await after?.close();
    await database?.drop();
  });

  const createKey = (app: TestApp, key: string) =>
    app.gql(CREATE_KEY, { input: { clientMutationId: key, name: `name-${key}` } }, { token: before.token });

  it("a server with the new key first opens what the old one sealed, while both take traffic", async () => {
    const sealedOld = await Promise.all(Array.from({ length: 8 }, (_, i) => createKey(before, `old-${i}`)));
    for (const response of sealedOld) expect(response.body.data.createKey.__typename).toBe("CreateKeyPayload");

    // The rotation: a server listing the new key first starts while the old one still serves.
    after = await startTestApp({ databaseUrl: database.url, poolSize: 4, encryptionKey: [newKey, oldKey] });
    const traffic = await Promise.all([
      ...Array.from({ length: 8 }, (_, i) => createKey(before, `during-old-${i}`)),
      ...Array.from({ length: 8 }, (_, i) => createKey(after, `during-new-${i}`)),
      ...Array.from({ length: 8 }, (_, i) => createKey(after, `old-${i}`)),
    ]);
    for (const response of traffic) expect(response.body.data?.createKey.__typename, response.text).toBe("CreateKeyPayload");
    // Each replay is the first answer, secret included.
    for (let i = 0; i < 8; i++) expect(traffic[16 + i]!.body.data).toEqual(sealedOld[i]!.body.data);

    const rows = await after.db.prisma.idempotencyRecord.findMany({ where: { mutation: "createKey" } });
    expect(rows).toHaveLength(24);
    for (const row of rows) {
      expect(row.encrypted).toBe(true);
      const sealedBy = row.clientMutationId.startsWith("during-new-") ? keyId(newKey) : keyId(oldKey);
      expect(row.outcome!.split(":").slice(0, 2), row.clientMutationId).toEqual(["v2", sealedBy]);
    }
    // Every key's replay opens on the rotated server, whichever key sealed it.
    for (const row of rows) {
      const replay = await createKey(after, row.clientMutationId);
      expect(replay.body.data?.createKey.__typename, replay.text).toBe("CreateKeyPayload");
      expect(replay.body.extensions.idempotency[0].status).toBe("REPLAYED");
    }
  });

  it("an outcome sealed before keys had ids (v1) still opens, with whichever listed key sealed it", async () => {
    await createKey(before, "legacy");
    const row = await before.db.prisma.idempotencyRecord.findFirstOrThrow({ where: { clientMutationId: "legacy" } });
    const plain = (await createKey(before, "legacy")).body.data;
    // Re-seal the outcome as the earlier format did: v1:<iv>:<tag>:<ciphertext>, bound to workspace:key.
    const workspaceId = row.workspaceId;
    const reseal = (text: string) => {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", oldKey, iv);
      cipher.setAAD(Buffer.from(`${workspaceId}:legacy`));
      const body = Buffer.concat([cipher.update(text, "utf8"), cipher.final()]);
      return ["v1", iv.toString("base64"), cipher.getAuthTag().toString("base64"), body.toString("base64")].join(":");
    };
    const { OutcomeCipherForTests } = await openWith(oldKey);
    await before.db.prisma.idempotencyRecord.update({
      where: { workspaceId_clientMutationId: { workspaceId, clientMutationId: "legacy" } },
      data: { outcome: reseal(OutcomeCipherForTests.decrypt(row.outcome!, `${workspaceId}:legacy`)) },
    });
    // A server that has not cached it: the rotated one, which lists the old key second.
    const replay = await createKey(after, "legacy");
    expect(replay.body.data).toEqual(plain);
    expect(replay.body.extensions.idempotency[0].status).toBe("REPLAYED");
  });

  it("a server whose keys cannot open an outcome fails loudly, and answers nothing else", async () => {
    const stranger = await startTestApp({ databaseUrl: database.url, poolSize: 2, encryptionKey: randomBytes(32) });
    try {
      const response = await createKey(stranger, "old-0");
      expect(response.body.data?.createKey ?? null).toBeNull();
      expect(response.body.errors?.[0]?.extensions?.code).toBe("INTERNAL_SERVER_ERROR");
    } finally {
      await stranger.close();
    }
  });

  it("ONCEQL_ENCRYPTION_KEYS lists the current key first; with ONCEQL_ENCRYPTION_KEY too it refuses to start", () => {
    const config = loadConfig({ ONCEQL_ENCRYPTION_KEYS: `${newKey.toString("hex")}, ${oldKey.toString("base64")}` });
    expect(config.encryptionKeys).toEqual([newKey, oldKey]);
    expect(() => loadConfig({ ONCEQL_ENCRYPTION_KEYS: newKey.toString("hex"), ONCEQL_ENCRYPTION_KEY: oldKey.toString("hex") })).toThrow(
      /ONCEQL_ENCRYPTION_KEYS: set it or ONCEQL_ENCRYPTION_KEY, not both/,
    );
    expect(() => loadConfig({ ONCEQL_ENCRYPTION_KEYS: `${newKey.toString("hex")},abcd` })).toThrow(/key 2 must be 32 bytes/);
  });
});

/** The plugin's cipher, to read what a record holds (its own module: not part of the package's API). */
async function openWith(key: Buffer) {
  const { OutcomeCipher } = await import("../../packages/pothos-plugin-idempotency/src/outcome-cipher.ts");
  return { OutcomeCipherForTests: new OutcomeCipher(key) };
}
