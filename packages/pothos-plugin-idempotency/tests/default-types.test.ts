import IdempotencyPlugin, { type MutationRunner } from "@onceql/pothos-plugin-idempotency";
import { useIdempotency } from "@onceql/pothos-plugin-idempotency/yoga";
import SchemaBuilder from "@pothos/core";
import ErrorsPlugin from "@pothos/plugin-errors";
import { createYoga } from "graphql-yoga";
import { describe, expect, test } from "vitest";
import { answerClassOf, answeringClasses } from "../src/answers.ts";
import type { Context, Queryable } from "./example/schema.ts";
import { call, type ExampleServer } from "./example/server.ts";
import { forEachDriver, newTenant, recordsOf, todosOf } from "./helpers/example.ts";

/**
 * `errors: { defaultTypes: [Error] }`, as Pothos' errors plugin suggests: every thrown Error is
 * shown as the union's `Error` member. Only declared domain errors may be the key's answer; a bug,
 * a failed fetch or a database error must free the key, or the retry could never succeed.
 */

/** A base class an adopter lists in defaultTypes; its subclasses are domain errors too. */
class AppError extends Error {
  static readonly code = "APP_ERROR";
  readonly code: string = "APP_ERROR";
}

class ListNotFoundError extends AppError {
  override readonly code = "LIST_NOT_FOUND";
  constructor(readonly list: string) {
    super(`no list named ${list}`);
  }
}

type Failure = "plain" | "type" | "sql" | "domain";

const ADD_TODO = `mutation AddTodo($input: AddTodoInput!) {
  addTodo(input: $input) {
    __typename
    ... on AddTodoPayload { clientMutationId todo { id title } }
    ... on AppError { message code }
    ... on Error { message }
  }
}`;

function defaultTypesServer(runner: MutationRunner, order: "errors first" | "idempotency first" = "errors first") {
  /** Attempts per title, so a failure can happen on the first attempt only. */
  const attempts = new Map<string, number>();
  const plugins = order === "errors first" ? [ErrorsPlugin, IdempotencyPlugin] : [IdempotencyPlugin, ErrorsPlugin];
  const builder = new SchemaBuilder<{ Context: Context; Idempotency: { Tx: Queryable } }>({
    plugins,
    errors: { defaultTypes: [Error, AppError] },
    idempotency: { runner, scope: (ctx: Context) => ctx.tenant },
  } as never);
  // As the errors plugin's documentation shows it.
  builder.objectType(Error, { name: "Error", fields: (t) => ({ message: t.exposeString("message") }) });
  builder.objectType(AppError, {
    name: "AppError",
    fields: (t) => ({ message: t.exposeString("message"), code: t.exposeString("code") }),
  });
  const Todo = builder.objectRef<{ id: string; title: string }>("Todo").implement({
    fields: (t) => ({ id: t.exposeID("id"), title: t.exposeString("title") }),
  });
  builder.queryType({ fields: (t) => ({ ok: t.boolean({ resolve: () => true }) }) });
  builder.mutationType({});
  builder.idempotentMutationField("addTodo", {
    inputFields: (t) => ({ title: t.string({ required: true }), fail: t.string({ required: true }) }),
    outputFields: { todo: Todo },
    run: async (input, { tx, scope, idFor }) => {
      const { rows } = await tx.query("INSERT INTO todos (id, scope, title) VALUES ($1, $2, $3) RETURNING id, title", [
        idFor("0d7c6a8e-41f2-4f0e-9a55-2b8f7c1d3e4a"),
        scope,
        input.title,
      ]);
      const attempt = (attempts.get(input.title) ?? 0) + 1;
      attempts.set(input.title, attempt);
      if (attempt === 1 || (input.fail as Failure) === "domain") {
        switch (input.fail as Failure) {
          case "plain":
            throw new Error("the recommendation service fell over");
          case "type":
            throw new TypeError("fetch failed");
          case "sql":
            await tx.query("SELECT 1 / 0");
            break;
          case "domain":
            throw new ListNotFoundError("groceries");
        }
      }
      return { todo: rows[0] };
    },
  });
  const server = createYoga<object, Context>({
    schema: builder.toSchema(),
    context: ({ request }) => ({ tenant: request.headers.get("x-tenant") ?? "public" }),
    plugins: [useIdempotency()],
    logging: false,
  }) as unknown as ExampleServer;
  return { server, attempts };
}

forEachDriver((db) => {
  for (const fail of ["plain", "type", "sql"] as const) {
    test(`a ${fail === "sql" ? "failing SQL statement" : fail === "type" ? "TypeError" : "plain Error"} is NOT_STORED, not the key's answer, though defaultTypes lists Error: the retry runs once and succeeds`, async () => {
      const { server, attempts } = defaultTypesServer(await db().runner());
      const tenant = newTenant();
      const variables = { input: { clientMutationId: `${fail}-1`, title: `Milk (${fail})`, fail } };

      const failed = await call(server, tenant, ADD_TODO, variables);
      // A field error that says what became of the key, never an `Error` member a client takes for the answer.
      expect(failed.body.data?.addTodo).toBeNull();
      expect(failed.body.errors).toHaveLength(1);
      expect(failed.body.errors![0]).toMatchObject({ path: ["addTodo"], extensions: { outcome: "NOT_STORED" } });
      expect(failed.body.extensions?.idempotency).toBeUndefined();
      expect(await todosOf(db(), tenant)).toHaveLength(0);
      expect(await recordsOf(db(), tenant)).toHaveLength(0);

      const retry = await call(server, tenant, ADD_TODO, variables);
      expect(retry.body.errors).toBeUndefined();
      expect(retry.body.data.addTodo).toMatchObject({ __typename: "AddTodoPayload", todo: { title: `Milk (${fail})` } });
      expect(retry.body.extensions.idempotency).toEqual([{ field: "addTodo", clientMutationId: `${fail}-1`, status: "EXECUTED" }]);

      const again = await call(server, tenant, ADD_TODO, variables);
      expect(again.body.data).toEqual(retry.body.data);
      expect(again.body.extensions.idempotency[0].status).toBe("REPLAYED");
      expect(attempts.get(`Milk (${fail})`)).toBe(2);
      expect(await todosOf(db(), tenant)).toHaveLength(1);
      expect(await recordsOf(db(), tenant)).toHaveLength(1);
    });
  }

  test("whatever the order of the errors and idempotency plugins, a plain Error is NOT_STORED", async () => {
    const { server, attempts } = defaultTypesServer(await db().runner(), "idempotency first");
    const tenant = newTenant();
    const variables = { input: { clientMutationId: "order-1", title: "Eggs", fail: "plain" } };
    const failed = await call(server, tenant, ADD_TODO, variables);
    expect(failed.body.data?.addTodo).toBeNull();
    expect(failed.body.errors![0].extensions.outcome).toBe("NOT_STORED");
    const retry = await call(server, tenant, ADD_TODO, variables);
    expect(retry.body.data.addTodo.__typename).toBe("AddTodoPayload");
    expect(attempts.get("Eggs")).toBe(2);
    expect(await todosOf(db(), tenant)).toHaveLength(1);
  });

  test("a subclass of a base class listed in defaultTypes is a domain error: stored, and replayed without running again", async () => {
    const { server, attempts } = defaultTypesServer(await db().runner());
    const tenant = newTenant();
    const variables = { input: { clientMutationId: "domain-1", title: "Bread", fail: "domain" } };
    const first = await call(server, tenant, ADD_TODO, variables);
    expect(first.body.errors).toBeUndefined();
    expect(first.body.data.addTodo).toEqual({ __typename: "AppError", message: "no list named groceries", code: "LIST_NOT_FOUND" });
    expect(first.body.extensions.idempotency[0].status).toBe("EXECUTED");

    const retry = await call(server, tenant, ADD_TODO, variables);
    expect(retry.body.data).toEqual(first.body.data);
    expect(retry.body.extensions.idempotency[0].status).toBe("REPLAYED");
    expect(attempts.get("Bread")).toBe(1);
    // An answer rolls back what the mutation wrote, and is the key's record.
    expect(await todosOf(db(), tenant)).toHaveLength(0);
    expect(await recordsOf(db(), tenant)).toHaveLength(1);
  });

  test("the plugin's own refusals keep their code and outcome, never shown as the `Error` member", async () => {
    const { server } = defaultTypesServer(await db().runner());
    const tenant = newTenant();
    await call(server, tenant, ADD_TODO, { input: { clientMutationId: "reused-1", title: "Tea", fail: "none" } });
    const reused = await call(server, tenant, ADD_TODO, { input: { clientMutationId: "reused-1", title: "Coffee", fail: "none" } });
    expect(reused.body.data?.addTodo).toBeNull();
    expect(reused.body.errors![0].extensions).toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED", outcome: "NOT_STORED" });
    const invalid = await call(server, tenant, ADD_TODO, { input: { clientMutationId: "has space", title: "Tea", fail: "none" } });
    expect(invalid.body.errors![0].extensions).toMatchObject({ code: "IDEMPOTENCY_KEY_INVALID", outcome: "NOT_STORED" });
  });
});

describe("a builder that would break the promise is refused", () => {
  const runner = {} as MutationRunner;
  const field = (errors?: { types: (abstract new (...args: never[]) => Error)[] }) => ({
    inputFields: () => ({}),
    outputFields: { ok: "Boolean" as const },
    ...(errors ? { errors } : {}),
    run: async () => ({ ok: true }),
  });
  const builderWith = (plugins: string[], errors?: object) => {
    const builder = new SchemaBuilder<{ Context: Context }>({
      plugins,
      ...(errors ? { errors } : {}),
      idempotency: { runner, scope: () => "s" },
    } as never);
    builder.queryType({ fields: (t) => ({ ok: t.boolean({ resolve: () => true }) }) });
    builder.mutationType({});
    return builder;
  };

  test("errors.types without @pothos/plugin-errors", () => {
    const builder = builderWith([IdempotencyPlugin]);
    expect(() => builder.idempotentMutationField("addList", field({ types: [AppError] }) as never)).toThrow(
      /addList: errors \(AppError\) require @pothos\/plugin-errors to be installed: add ErrorsPlugin/,
    );
  });

  test("errors.defaultTypes without @pothos/plugin-errors", () => {
    const builder = builderWith([IdempotencyPlugin], { defaultTypes: [AppError] });
    expect(() => builder.idempotentMutationField("addList", field() as never)).toThrow(/require @pothos\/plugin-errors/);
  });

  test("no errors and no errors plugin is fine: the field is the payload, no union", () => {
    const builder = builderWith([IdempotencyPlugin]);
    builder.idempotentMutationField("addList", field() as never);
    expect(String(builder.toSchema().getMutationType()!.getFields().addList!.type)).toBe("AddListPayload");
  });

  test("idempotentMutationField without the idempotency plugin in plugins", () => {
    const builder = builderWith([ErrorsPlugin]);
    expect(() => builder.idempotentMutationField("addList", field() as never)).toThrow(
      /requires the idempotency plugin to be installed: add IdempotencyPlugin/,
    );
  });

  test("a runtime's or driver's own class in errors.types", () => {
    const builder = builderWith([ErrorsPlugin, IdempotencyPlugin]);
    expect(() => builder.idempotentMutationField("addList", field({ types: [TypeError] }) as never)).toThrow(
      /addList lists TypeError in errors.types: a runtime's or driver's own error is a failure/,
    );
    class PrismaClientKnownRequestError extends Error {}
    expect(() => builder.idempotentMutationField("addList", field({ types: [PrismaClientKnownRequestError] }) as never)).toThrow(
      /lists PrismaClientKnownRequestError/,
    );
  });
});

describe("which thrown errors are answers", () => {
  // What defaultTypes: [Error, AppError] leaves: AppError alone.
  const classes = answeringClasses([], [Error, TypeError, AppError]);

  test("defaultTypes keep only domain classes, subclasses first", () => {
    expect(classes).toEqual([AppError]);
    expect(answeringClasses([ListNotFoundError], [AppError, Error])).toEqual([ListNotFoundError, AppError]);
  });

  test("a declared class, or a subclass of one, answers; a domain class that is not listed does not", () => {
    expect(answerClassOf(new ListNotFoundError("x"), classes)).toBe(AppError);
    expect(answerClassOf(new (class Other extends Error {})(), classes)).toBeUndefined();
  });

  test("the runtime's, the drivers' and Prisma's own errors never answer, even under a listed class", () => {
    // Each made an instance of a listed class, as a subclass or a copy of a library could make it.
    const under = <T extends object>(fields: T) => Object.assign(new AppError("x"), fields);
    const foreign = [
      new Error("bug"),
      new TypeError("fetch failed", { cause: under({ code: "UND_ERR_CONNECT_TIMEOUT" }) }),
      new RangeError("x"),
      new AggregateError([]),
      new DOMException("The operation was aborted", "AbortError"),
      new DOMException("The operation timed out", "TimeoutError"),
      under({ name: "error", severity: "ERROR", code: "22012" }),
      under({ name: "PrismaClientKnownRequestError", code: "P2002" }),
      under({ name: "DriverAdapterError" }),
      under({ errno: -104, syscall: "read", code: "ECONNRESET" }),
      under({ name: "AbortError", code: "ABORT_ERR" }),
      under({ code: "UND_ERR_HEADERS_TIMEOUT" }),
    ];
    for (const error of foreign) expect([error, answerClassOf(error, classes)]).toEqual([error, undefined]);
    // A class of the adopter's that shares a generic name stays theirs.
    class TimeoutError extends AppError {}
    expect(answerClassOf(new TimeoutError("slow"), classes)).toBe(AppError);
  });
});
