import { createServer } from "node:net";
import { idempotentFetch } from "@onceql/client/fetch";
import { idempotencyExchange } from "@onceql/client/urql";
import { Client, type CombinedError, fetchExchange } from "@urql/core";
import type { SerializedEntries, SerializedRequest, StorageAdapter } from "@urql/exchange-graphcache";
import { offlineExchange } from "@urql/exchange-graphcache";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CREATE_KEY, type LinkServer, startLinkServer } from "./server.ts";

/**
 * graphcache's offline queue in Node: storage in memory that outlives the client (what IndexedDB is
 * to a page that is closed and opened again), and the offline error told plainly, as Node's fetch
 * fails with "fetch failed", which graphcache's browser-message test does not match.
 */
function memoryStorage() {
  let entries: SerializedEntries = {};
  let queued: SerializedRequest[] | null = null;
  const adapter: StorageAdapter = {
    readData: async () => ({ ...entries }),
    writeData: async (delta) => {
      entries = { ...entries, ...delta };
    },
    readMetadata: async () => queued,
    writeMetadata: (requests) => {
      queued = requests;
    },
    onOnline: () => {},
  };
  return { adapter, queued: () => queued ?? [] };
}

/** `keyedIn: "fetch"` is the control: a key made per request, below the queue, as a hand-written fetch wrapper would. */
function offlineClient(url: string, storage: StorageAdapter, headers: Record<string, string>, keyedIn: "exchange" | "fetch" = "exchange") {
  return new Client({
    url,
    fetchOptions: { headers },
    fetch: keyedIn === "fetch" ? idempotentFetch({ maxAttempts: 1 }) : undefined,
    exchanges: [
      ...(keyedIn === "exchange" ? [idempotencyExchange({ baseDelayMs: 10 })] : []),
      offlineExchange({
        storage,
        isOfflineError: (error: CombinedError | undefined) => !!error?.networkError && !error.response,
        // graphcache queues only the mutations whose optimistic answer writes an entity.
        optimistic: {
          createKey: (args) => {
            const { name } = args.input as { name: string };
            return { __typename: "CreateKeyPayload", clientMutationId: "", key: { __typename: "ApiKey", id: `optimistic-${name}`, name } };
          },
        },
      }),
      fetchExchange,
    ],
  });
}

async function until<T>(read: () => T | Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  for (const started = Date.now(); Date.now() - started < 15_000; await new Promise((resolve) => setTimeout(resolve, 50))) {
    const value = await read();
    if (done(value)) return value;
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A port nothing listens on: the server "unreachable". */
async function refusedUrl(): Promise<string> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return `http://127.0.0.1:${port}/graphql`;
}

let server: LinkServer;
beforeAll(async () => {
  server = await startLinkServer();
});
afterAll(() => server?.close());

const queuedKey = (request: SerializedRequest | undefined) =>
  (request?.variables as { input?: { clientMutationId?: string } } | undefined)?.input?.clientMutationId;

describe("urql's offlineExchange after idempotencyExchange", () => {
  it("a mutation queued while the server is unreachable is sent after a restart with the key it was queued with, and runs once", async () => {
    const storage = memoryStorage();
    const before = offlineClient(await refusedUrl(), storage.adapter, server.headers);
    void before.mutation(CREATE_KEY, { input: { name: "urql-offline" } }).toPromise();
    const [queued] = await until(storage.queued, (requests) => requests.length === 1, "the mutation to be queued");
    const key = queuedKey(queued);
    expect(key).toMatch(/^[0-9a-f-]{36}$/);

    offlineClient(server.endpoint, storage.adapter, server.headers);
    await until(
      () => server.record(key!),
      (record) => record?.status === "COMPLETED",
      "the queued mutation to run",
    );
    expect(await server.keysNamed("urql-offline")).toBe(1);
    await until(storage.queued, (requests) => requests.length === 0, "the queue to empty");
  });

  it("a mutation whose response was lost, queued, then sent after a restart is the replay of the first execution", async () => {
    const storage = memoryStorage();
    const before = offlineClient(server.endpoint, storage.adapter, server.headers);
    server.proxy.script("lose-response");
    void before.mutation(CREATE_KEY, { input: { name: "urql-offline-lost" } }).toPromise();
    const [queued] = await until(storage.queued, (requests) => requests.length === 1, "the mutation to be queued");
    const key = queuedKey(queued);
    expect(await server.record(key!)).toMatchObject({ status: "COMPLETED", replayCount: 0 });

    offlineClient(server.endpoint, storage.adapter, server.headers);
    await until(
      () => server.record(key!),
      (record) => record?.replayCount === 1,
      "the queued mutation to be replayed",
    );
    expect(await server.keysNamed("urql-offline-lost")).toBe(1);
  });

  it("control: with the key made per request below the queue instead, the same story executes twice", async () => {
    const storage = memoryStorage();
    const before = offlineClient(server.endpoint, storage.adapter, server.headers, "fetch");
    server.proxy.script("lose-response");
    void before.mutation(CREATE_KEY, { input: { name: "urql-offline-control" } }).toPromise();
    const [queued] = await until(storage.queued, (requests) => requests.length === 1, "the mutation to be queued");
    expect(queuedKey(queued)).toBeUndefined();

    offlineClient(server.endpoint, storage.adapter, server.headers, "fetch");
    await until(
      () => server.keysNamed("urql-offline-control"),
      (count) => count === 2,
      "the second execution",
    );
  });
});
