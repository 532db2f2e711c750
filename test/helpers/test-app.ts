import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import { type ClientOptions, createClient, type IdempotencyEntry, type OnceqlClient } from "@onceql/client";
import type { IdempotencyFaults } from "@onceql/pothos-plugin-idempotency";
import { type DocumentNode, type GraphQLFormattedError, print } from "graphql";
import pino, { type Logger } from "pino";
import { type App, createApp } from "../../src/app.ts";
import { createWorkspace } from "../../src/auth/workspaces.ts";
import { type Config, loadConfig, sessionSettings } from "../../src/config.ts";
import { type Database, openDatabase } from "../../src/db/database.ts";
import { closeHttp, listen, urlOf } from "../../src/server.ts";
import { pgliteDatabase } from "./databases.ts";

export interface GraphQLResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: older tests assert responses field by field; new ones use `request` or `sdk`.
  body: any;
  text: string;
}

/** A response read through an operation's generated types. */
export interface TypedResponse<Data> {
  status: number;
  headers: Headers;
  data: Data | null | undefined;
  errors: (GraphQLFormattedError & { extensions?: { code?: string; [name: string]: unknown } })[] | undefined;
  extensions: { idempotency?: IdempotencyEntry[] } | undefined;
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
  /** The same, for a generated document, read through its operation's type: `request<CreateWalletMutation>(CreateWalletDocument, ...)`. */
  request<Data, Variables = Record<string, unknown>>(
    document: DocumentNode | string,
    variables?: Variables,
    options?: { token?: string },
  ): Promise<TypedResponse<Data>>;
  /** The typed SDK over `yoga.fetch`; by default one attempt, so a test sees every error. */
  sdk(options?: Partial<ClientOptions>): OnceqlClient;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Serves the app over HTTP on a free port (closed with the app); its base URL. */
  listen(): Promise<string>;
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
  /** Silent unless TEST_LOG_LEVEL says otherwise. */
  logger?: Logger;
  /** As `startServer` passes the dev workspace's token to GraphiQL. */
  graphiqlToken?: string;
  /** The keys sealing sensitive outcomes, the current first (default: one key shared by every test app). */
  encryptionKey?: Buffer | Buffer[];
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const ownsDb = !options.db;
  const config = { ...loadConfig({}), databaseUrl: options.databaseUrl, ...options.config };
  const db =
    options.db ??
    (options.databaseUrl
      ? await openDatabase({
          databaseUrl: options.databaseUrl,
          poolSize: options.poolSize ?? 10,
          pooler: config.pooler,
          directUrl: config.directDatabaseUrl,
          session: sessionSettings(config),
        })
      : await pgliteDatabase());
  const app = createApp({
    config,
    db,
    logger: options.logger ?? pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
    encryptionKey: options.encryptionKey ?? testEncryptionKey,
    faults: options.faults,
    graphiqlToken: options.graphiqlToken,
  });
  const newWorkspace = async (name = "test") => (await createWorkspace(db.prisma, name)).token;
  const token = await newWorkspace();
  const fetch = async (path: string, init?: RequestInit) => app.yoga.fetch(new URL(path, "http://localhost"), init ?? {});
  const post = (body: string, auth: string | null, headers: Record<string, string> = {}) =>
    fetch("/graphql", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/graphql-response+json",
        ...(auth ? { authorization: `Bearer ${auth}` } : {}),
        ...headers,
      },
      body,
    });
  let http: Server | undefined;
  return {
    app,
    db,
    token,
    fetch,
    newWorkspace,
    async gql(query, variables, gqlOptions = {}) {
      const response = await post(
        JSON.stringify({ query, variables }),
        gqlOptions.token === undefined ? token : gqlOptions.token,
        gqlOptions.headers,
      );
      const text = await response.text();
      return { status: response.status, headers: response.headers, body: JSON.parse(text), text };
    },
    async request(document, variables, requestOptions = {}) {
      const query = typeof document === "string" ? document : print(document);
      const response = await post(JSON.stringify({ query, variables }), requestOptions.token ?? token);
      const body = await response.json();
      return { status: response.status, headers: response.headers, data: body.data, errors: body.errors, extensions: body.extensions };
    },
    sdk: (clientOptions = {}) =>
      createClient({
        url: "http://localhost/graphql",
        token,
        maxAttempts: 1,
        fetch: (async (input: string | URL | Request, init?: RequestInit) =>
          app.yoga.fetch(input as URL, init ?? {})) as typeof globalThis.fetch,
        ...clientOptions,
      }),
    async listen() {
      http ??= await listen(app.yoga, { port: 0, host: "127.0.0.1" });
      return urlOf(http, { host: "127.0.0.1" });
    },
    async close() {
      if (http) await closeHttp(http);
      await app.close();
      if (ownsDb) await db.close();
    },
  };
}
