import { randomBytes } from "node:crypto";
import pino from "pino";
import { type App, createApp } from "../../src/app.ts";
import { createWorkspace } from "../../src/auth/workspaces.ts";
import { type Config, loadConfig } from "../../src/config.ts";
import { type Database, openDatabase } from "../../src/db/database.ts";
import type { IdempotencyFaults } from "../../src/idempotency/executor.ts";
import { pgliteDatabase } from "./databases.ts";

export interface GraphQLResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint: responses are asserted field by field in tests.
  body: any;
  text: string;
}

export interface TestApp {
  app: App;
  db: Database;
  /** Token of a workspace made for this app. */
  token: string;
  /** POSTs one GraphQL operation through `yoga.fetch` (real Request/Response, no socket). */
  gql(
    query: string,
    variables?: Record<string, unknown>,
    options?: { token?: string | null; headers?: Record<string, string> },
  ): Promise<GraphQLResponse>;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  newWorkspace(name?: string): Promise<string>;
  close(): Promise<void>;
}

export const testEncryptionKey = randomBytes(32);

export interface TestAppOptions {
  /** A PostgreSQL URL (the app opens its own pool on it); without one, in-memory PGlite. */
  databaseUrl?: string;
  /** Share this already-open database (several apps on one PGlite, or a workspace made elsewhere). */
  db?: Database;
  config?: Partial<Config>;
  faults?: IdempotencyFaults;
  poolSize?: number;
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const ownsDb = !options.db;
  const db =
    options.db ??
    (options.databaseUrl
      ? await openDatabase({ databaseUrl: options.databaseUrl, poolSize: options.poolSize ?? 10 })
      : await pgliteDatabase());
  const config = { ...loadConfig({}), databaseUrl: options.databaseUrl, ...options.config };
  const app = createApp({
    config,
    db,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
    encryptionKey: testEncryptionKey,
    faults: options.faults,
  });
  const newWorkspace = async (name = "test") => (await createWorkspace(db.prisma, name)).token;
  const token = await newWorkspace();
  const fetch = async (path: string, init?: RequestInit) => app.yoga.fetch(new URL(path, "http://localhost"), init ?? {});
  return {
    app,
    db,
    token,
    fetch,
    newWorkspace,
    async gql(query, variables, gqlOptions = {}) {
      const auth = gqlOptions.token === undefined ? token : gqlOptions.token;
      const response = await fetch("/graphql", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/graphql-response+json",
          ...(auth ? { authorization: `Bearer ${auth}` } : {}),
          ...gqlOptions.headers,
        },
        body: JSON.stringify({ query, variables }),
      });
      const text = await response.text();
      return { status: response.status, headers: response.headers, body: JSON.parse(text), text };
    },
    async close() {
      await app.close();
      if (ownsDb) await db.close();
    },
  };
}
