import { randomBytes } from "node:crypto";
import { createClient } from "@onceql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServerProcess } from "../../scripts/fleet.ts";
import { createWorkspace } from "../../src/auth/workspaces.ts";
import { type Database, openDatabase } from "../../src/db/database.ts";
import { createPostgresDatabase, postgresAvailable } from "../helpers/databases.ts";
import { startTestIssuer, type TestIssuer } from "../helpers/issuer.ts";
import { CREATE_IDENTITY, CREATE_KEY, UPDATE_KEY } from "../helpers/operations.ts";
import { postGraphQL } from "../helpers/processes.ts";

/** Three server processes on one PostgreSQL database and one card issuer, each sent the same mutations at once. */
describe.skipIf(!postgresAvailable())("scale-out: three servers, one database", () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let db: Database;
  let issuer: TestIssuer;
  let servers: ServerProcess[];
  let token: string;

  beforeAll(async () => {
    database = await createPostgresDatabase();
    issuer = await startTestIssuer();
    const env = {
      DATABASE_URL: database.url,
      ONCEQL_ENCRYPTION_KEY: randomBytes(32).toString("hex"),
      ONCEQL_ISSUER_URL: issuer.url,
    };
    servers = await Promise.all([ServerProcess.start(env), ServerProcess.start(env), ServerProcess.start(env)]);
    db = await openDatabase({ databaseUrl: database.url, poolSize: 2 });
    token = (await createWorkspace(db.prisma, "scale-out")).token;
  });
  afterAll(async () => {
    await Promise.all(servers?.map((server) => server.stop()) ?? []);
    await db?.close();
    await issuer?.close();
    await database?.drop();
  });

  /** `copies` requests per server, all at once, round-robin over the three. */
  const everywhere = (operation: string, input: Record<string, unknown>, copies = 3) =>
    Promise.all(Array.from({ length: copies * 3 }, (_, i) => postGraphQL(servers[i % 3]!.url, token, operation, { input })));

  it("the same key sent to every server at once: one effect, identical payloads from all three", async () => {
    const { key } = (await postGraphQL(servers[0]!.url, token, CREATE_KEY, { input: { clientMutationId: "so-setup", name: "so-target" } }))
      .body.data.createKey;
    const cases = [
      { operation: CREATE_IDENTITY, field: "createIdentity", input: { clientMutationId: "so-identity", externalId: "so-person" } },
      { operation: CREATE_KEY, field: "createKey", input: { clientMutationId: "so-key", name: "so-key", externalId: "so-owner" } },
      { operation: UPDATE_KEY, field: "updateKey", input: { clientMutationId: "so-update", keyId: key.id, externalId: "so-attached" } },
    ];
    for (const { operation, field, input } of cases) {
      const responses = await everywhere(operation, input);
      for (const response of responses) {
        expect(response.body.errors).toBeUndefined();
        expect(response.body.data).toEqual(responses[0]!.body.data);
      }
      expect(
        responses.filter((r) => r.body.extensions.idempotency[0].status === "EXECUTED"),
        field,
      ).toHaveLength(1);
    }
    expect(await db.prisma.identity.count({ where: { externalId: { in: ["so-person", "so-owner", "so-attached"] } } })).toBe(3);
    expect(await db.prisma.apiKey.count({ where: { name: "so-key" } })).toBe(1);
  });

  it("distinct keys for one externalId on every server at once: every key once, one identity", async () => {
    const responses = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        postGraphQL(servers[i % 3]!.url, token, CREATE_KEY, {
          input: { clientMutationId: `so-many-${i}`, name: `so-many-${i}`, externalId: "so-shared" },
        }),
      ),
    );
    for (const response of responses) expect(response.body.data.createKey.__typename).toBe("CreateKeyPayload");
    expect(await db.prisma.identity.count({ where: { externalId: "so-shared" } })).toBe(1);
    expect(await db.prisma.apiKey.count({ where: { name: { startsWith: "so-many-" } } })).toBe(30);
  });

  it("20 createCard keys for one identity on every server at once: one card at the issuer and in the database, 20 answers naming it", async () => {
    const clients = servers.map((server) => createClient({ url: `${server.url}/graphql`, token, maxAttempts: 1 }));
    const holder = await clients[0]!.CreateIdentity({ input: { externalId: "so-card-holder" } });
    if (holder.data.createIdentity?.__typename !== "CreateIdentityPayload") throw new Error("setup failed");
    const identityId = holder.data.createIdentity.identity.id;
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => clients[i % 3]!.CreateCard({ input: { clientMutationId: `so-card-${i}`, identityId } })),
    );
    const named = responses.map(({ data }) => (data.createCard?.__typename === "CreateCardPayload" ? data.createCard.card.id : undefined));
    const atIssuer = issuer.cardsOf(identityId);
    expect(atIssuer).toHaveLength(1);
    expect(named).toEqual(Array(20).fill(atIssuer[0]!.id));
    expect(await db.prisma.card.count({ where: { identityId } })).toBe(1);
  });
});
