import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTcpProxy } from "../../scripts/tcp-proxy.ts";
import { createPostgresDatabase, postgresAvailable } from "../helpers/databases.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

/** How soon PostgreSQL ends a silent session in a transaction, at the default settings (a third of the lease). */
const PARTITION_BOUND_MS = 10_000;

/**
 * A server cut off from the database by a partition (its connections never closed, nothing
 * crosses them) while it holds a key: another server runs that key within a bounded time, at the
 * default settings, with the SDK's default retry policy.
 */
describe.skipIf(!postgresAvailable())("a network partition", () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
  let cutOff: TestApp;
  let healthy: TestApp;
  let release: () => void = () => {};
  let claimed: () => void = () => {};
  const holding = new Promise<void>((resolve) => (claimed = resolve));

  beforeAll(async () => {
    database = await createPostgresDatabase();
    const direct = new URL(database.url);
    proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    const proxied = new URL(database.url);
    proxied.port = String(proxy.port);
    cutOff = await startTestApp({
      databaseUrl: proxied.toString(),
      // Holds the key, its effects done, until the test lets it go on.
      faults: {
        beforeCommit: () => {
          claimed();
          return new Promise<void>((resolve) => (release = resolve));
        },
      },
    });
    healthy = await startTestApp({ databaseUrl: database.url });
  });
  afterAll(async () => {
    release();
    await proxy?.close();
    await Promise.all([cutOff?.close().catch(() => {}), healthy?.close()]);
    await database?.drop();
  });

  it(`frees the keys of a server that went silent within ${PARTITION_BOUND_MS / 1000} s: another server runs them once`, async () => {
    const input = { clientMutationId: "partitioned-1", name: "partitioned" };
    const stranded = cutOff
      .sdk()
      .CreateKey({ input })
      .catch((error: unknown) => error);
    await holding;
    proxy.silence();
    release();
    const started = Date.now();
    const result = await healthy.sdk({ token: cutOff.token, maxAttempts: undefined }).CreateKey({ input });
    const elapsed = Date.now() - started;
    expect(result.data.createKey?.__typename).toBe("CreateKeyPayload");
    expect(result.replayed).toBe(false);
    expect(elapsed).toBeGreaterThan(PARTITION_BOUND_MS / 2);
    expect(elapsed).toBeLessThan(PARTITION_BOUND_MS + 3_000);
    expect(await healthy.db.prisma.apiKey.count({ where: { name: "partitioned" } })).toBe(1);
    proxy.cut();
    await stranded;
  }, 30_000);
});
