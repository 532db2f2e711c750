import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CREATE_TODO, call, type ExampleServer, exampleServer, IMPORT_TODO } from "./example/server.ts";
import { type ExampleDatabase, newTenant, openExampleDatabase, recordsOf, todosOf } from "./helpers/example.ts";
import { postgresAvailable } from "./helpers/postgres.ts";

/** Attempts held open by a test, by title, until it lets them go. */
class Gates {
  private readonly open = new Map<string, () => void>();
  readonly entered = new Set<string>();

  hold = async (title: string): Promise<void> => {
    if (!title.startsWith("held")) return;
    this.entered.add(title);
    await new Promise<void>((resolve) => this.open.set(title, resolve));
  };

  release(title: string): void {
    this.open.get(title)?.();
  }

  async until(title: string): Promise<void> {
    await expect.poll(() => this.entered.has(title)).toBe(true);
  }
}

const QUEUE_MS = 300;

/**
 * `concurrency`: on a pool, an attempt holds a connection for its whole transaction; the limits
 * keep one scope, or attempts waiting on another service, from holding them all.
 */
describe.skipIf(!postgresAvailable)("concurrency limits (PostgreSQL: attempts hold pooled connections)", () => {
  let db: ExampleDatabase;
  let server: ExampleServer;
  const gates = new Gates();

  beforeAll(async () => {
    db = await openExampleDatabase("postgres");
    const runner = await db.runner({ concurrency: { total: 4, perScope: 2, outside: 2, outsidePerScope: 1, queueMs: QUEUE_MS } });
    server = exampleServer(runner, { afterInsert: gates.hold, duringImport: gates.hold });
  });
  afterAll(() => db?.close());

  const create = (tenant: string, key: string, title = key) =>
    call(server, tenant, CREATE_TODO, { input: { clientMutationId: key, title } });
  const importTodo = (tenant: string, key: string) => call(server, tenant, IMPORT_TODO, { input: { clientMutationId: key, title: key } });

  test("a scope at its limit: its next attempt waits its turn, then DATABASE_BUSY with retryAfterMs having run nothing; another scope's run meanwhile", async () => {
    const [busy, other] = [newTenant(), newTenant()];
    const done = await create(busy, "done");
    const held = [create(busy, "held-1"), create(busy, "held-2")];
    await gates.until("held-1");
    await gates.until("held-2");

    const started = performance.now();
    const refused = await create(busy, "refused");
    expect(performance.now() - started).toBeGreaterThanOrEqual(QUEUE_MS - 20);
    expect(refused.status).toBe(503);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: "DATABASE_BUSY", outcome: "NOT_STORED" });
    expect(refused.body.errors?.[0]?.extensions?.retryAfterMs).toBeGreaterThan(0);
    expect((await todosOf(db, busy)).map((todo) => todo.title)).not.toContain("refused");

    // Neither a replay nor a duplicate of a running key takes a turn: they hold no connection.
    const replay = await create(busy, "done");
    expect(replay.body.data).toEqual(done.body.data);
    expect(replay.body.extensions?.idempotency[0].status).toBe("REPLAYED");
    const duplicate = create(busy, "held-1");

    expect((await create(other, "other-1")).body.extensions?.idempotency[0].status).toBe("EXECUTED");
    expect((await create(other, "other-2")).body.extensions?.idempotency[0].status).toBe("EXECUTED");

    // A turn that comes within the wait runs.
    const waiting = create(busy, "waiting");
    await sleep(QUEUE_MS / 3);
    gates.release("held-1");
    gates.release("held-2");
    expect((await waiting).body.extensions?.idempotency[0].status).toBe("EXECUTED");
    for (const response of await Promise.all(held)) expect(response.body.extensions?.idempotency[0].status).toBe("EXECUTED");
    expect((await duplicate).body.extensions?.idempotency[0].status).toBe("REPLAYED");

    // The refused key was left free: the same key runs now.
    expect((await create(busy, "refused")).body.extensions?.idempotency[0].status).toBe("EXECUTED");
    expect((await recordsOf(db, busy)).map((record) => record.client_mutation_id).sort()).toEqual(
      ["done", "held-1", "held-2", "refused", "waiting"].sort(),
    );
  });

  test("attempts that call another service have a bound of their own: they cannot take the turns of those that do not", async () => {
    const [slow, other, third] = [newTenant(), newTenant(), newTenant()];
    const slowImport = importTodo(slow, "held-import-1");
    await gates.until("held-import-1");
    // One per scope: the scope's second waits, and is refused, while its database-only work runs.
    const second = await importTodo(slow, "held-import-2");
    expect(second.body.errors?.[0]?.extensions).toMatchObject({ code: "DATABASE_BUSY", outcome: "NOT_STORED" });
    expect((await create(slow, "slow-db-only")).body.extensions?.idempotency[0].status).toBe("EXECUTED");

    const otherImport = importTodo(other, "held-import-3");
    await gates.until("held-import-3");
    // Both of the server's outside turns are taken: a third scope's import waits, its database-only work does not.
    const refused = await importTodo(third, "third-import");
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: "DATABASE_BUSY" });
    expect((await create(third, "third-db-only")).body.extensions?.idempotency[0].status).toBe("EXECUTED");

    gates.release("held-import-1");
    gates.release("held-import-3");
    for (const response of [await slowImport, await otherImport]) {
      expect(response.body.extensions?.idempotency[0].status).toBe("EXECUTED");
    }
    expect((await importTodo(third, "third-import")).body.extensions?.idempotency[0].status).toBe("EXECUTED");
  });
});
