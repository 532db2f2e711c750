import type { MutationRunner } from "@onceql/pothos-plugin-idempotency";
import { useIdempotency } from "@onceql/pothos-plugin-idempotency/yoga";
import { createYoga } from "graphql-yoga";
import { buildExampleSchema, type Context, type ExampleHooks } from "./schema.ts";

/** The example served by graphql-yoga, as an adopter serves it: the tenant header is the keys' scope. */
export function exampleServer(runner: MutationRunner, hooks: ExampleHooks = {}) {
  return createYoga<object, Context>({
    schema: buildExampleSchema(runner, hooks),
    context: ({ request }) => ({ tenant: request.headers.get("x-tenant") ?? "public" }),
    plugins: [useIdempotency()],
    logging: false,
  });
}

export type ExampleServer = ReturnType<typeof exampleServer>;

export interface Response {
  status: number;
  replayedHeader: string | null;
  // biome-ignore lint/suspicious/noExplicitAny: GraphQL responses, read by the tests.
  body: { data?: any; errors?: any[]; extensions?: any };
}

/** One GraphQL request through `yoga.fetch` (no socket). */
export async function call(server: ExampleServer, tenant: string, query: string, variables: object = {}): Promise<Response> {
  const response = await server.fetch("http://example.test/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", "x-tenant": tenant },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, replayedHeader: response.headers.get("idempotent-replayed"), body: await response.json() };
}

export const CREATE_TODO = `mutation CreateTodo($input: CreateTodoInput!) {
  createTodo(input: $input) {
    __typename
    ... on CreateTodoPayload { clientMutationId todo { id title createdAt } }
    ... on TitleTakenError { message code title }
  }
}`;

export const IMPORT_TODO = `mutation ImportTodo($input: ImportTodoInput!) {
  importTodo(input: $input) { __typename ... on ImportTodoPayload { clientMutationId todo { id title } } }
}`;

export const CREATE_API_TOKEN = `mutation CreateApiToken($input: CreateApiTokenInput!) {
  createApiToken(input: $input) { __typename ... on CreateApiTokenPayload { clientMutationId token } }
}`;
