import { randomBytes } from "node:crypto";
import IdempotencyPlugin, { type MutationRunner } from "@onceql/pothos-plugin-idempotency";
import SchemaBuilder from "@pothos/core";
import ErrorsPlugin from "@pothos/plugin-errors";
import type { GraphQLSchema } from "graphql";

/**
 * A tiny API built as an adopter builds one: Pothos, its errors plugin and this plugin, over
 * todos. It runs on any driver: a mutation's `tx` is what the driver gives (a `pg.PoolClient` in
 * BEGIN, or PGlite's `Transaction`), and both answer `query(text, params)`.
 */
export interface Queryable {
  // biome-ignore lint/suspicious/noExplicitAny: rows of the example's own tables.
  query(text: string, params?: unknown[]): Promise<{ rows: any[] }>;
}

export interface Context {
  tenant: string;
}

/** The example's own table, beside those `ensureSchema()` creates. */
export const TODOS_SQL = `CREATE TABLE IF NOT EXISTS todos (
  id uuid PRIMARY KEY,
  scope text NOT NULL,
  title text NOT NULL,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  UNIQUE (scope, title)
)`;

/** The namespace of todo ids made by `idFor` (a UUID of the example's own). */
export const TODO_NAMESPACE = "6f1c2b7e-3d4a-4f5b-9c8d-1e2f3a4b5c6d";

/** Where a test steps into a mutation while it runs (inside its transaction). */
export interface ExampleHooks {
  /** After createTodo's insert, before it returns: a test may hold the attempt open here. */
  afterInsert?(title: string, scope: string): Promise<void> | void;
  /** After importTodo's insert, standing for its call to the import service: a test may hold it here. */
  duringImport?(title: string, scope: string): Promise<void> | void;
  /** importTodo fails unexpectedly (a plain Error) after its insert when this says so. */
  failImport?(title: string): boolean;
}

interface TodoRow {
  id: string;
  scope: string;
  title: string;
  created_at: Date;
}

export class TitleTakenError extends Error {
  static readonly code = "TITLE_TAKEN";
  readonly code = "TITLE_TAKEN";
  constructor(readonly title: string) {
    super(`A todo titled "${title}" already exists`);
    this.name = "TitleTakenError";
  }
}

interface SchemaConfig {
  Context: Context;
  Idempotency: { Tx: Queryable };
}

type Types = PothosSchemaTypes.ExtendDefaultTypes<SchemaConfig>;

export function buildExampleSchema(runner: MutationRunner, hooks: ExampleHooks = {}): GraphQLSchema {
  const options = {
    plugins: [ErrorsPlugin, IdempotencyPlugin],
    idempotency: { runner, scope: (ctx: Context) => ctx.tenant },
  } satisfies Pick<PothosSchemaTypes.SchemaBuilderOptions<Types>, "plugins" | "idempotency">;
  // `satisfies` checks the options as an adopter's compiler does. The repository's one TypeScript
  // program also holds the app, whose @pothos/plugin-prisma makes `prisma` a required option of
  // every builder (a global declaration); without that plugin, as here, it is no option at all.
  const builder = new SchemaBuilder<SchemaConfig>(options as never);

  const Todo = builder.objectRef<TodoRow>("Todo").implement({
    fields: (t) => ({
      id: t.exposeID("id"),
      title: t.exposeString("title"),
      createdAt: t.string({ resolve: (todo) => todo.created_at.toISOString() }),
    }),
  });

  const UserError = builder.interfaceRef<{ message: string; code: string }>("UserError").implement({
    fields: (t) => ({ message: t.exposeString("message"), code: t.exposeString("code") }),
  });
  builder.objectType(TitleTakenError, {
    name: "TitleTakenError",
    interfaces: [UserError],
    fields: (t) => ({ title: t.exposeString("title") }),
  });

  builder.queryType({ fields: (t) => ({ ok: t.boolean({ resolve: () => true }) }) });
  builder.mutationType({});

  const insertTodo = async (tx: Queryable, id: string, scope: string, title: string): Promise<TodoRow> => {
    const taken = await tx.query("SELECT 1 FROM todos WHERE scope = $1 AND title = $2", [scope, title]);
    if (taken.rows.length) throw new TitleTakenError(title);
    const { rows } = await tx.query("INSERT INTO todos (id, scope, title) VALUES ($1, $2, $3) RETURNING *", [id, scope, title]);
    return rows[0] as TodoRow;
  };

  builder.idempotentMutationField("createTodo", {
    inputFields: (t) => ({ title: t.string({ required: true }) }),
    outputFields: { todo: Todo },
    errors: { types: [TitleTakenError] },
    onlyDatabaseEffects: true,
    run: async (input, { tx, scope, idFor, foundEarlier }) => {
      const id = idFor(TODO_NAMESPACE);
      // A retry past the TTL, its stored outcome swept: the row its first run made answers it.
      const earlier = await tx.query("SELECT * FROM todos WHERE id = $1", [id]);
      if (earlier.rows.length) return foundEarlier({ todo: earlier.rows[0] as TodoRow });
      const todo = await insertTodo(tx, id, scope, input.title);
      await hooks.afterInsert?.(input.title, scope);
      return { todo };
    },
  });

  builder.idempotentMutationField("importTodo", {
    inputFields: (t) => ({ title: t.string({ required: true }) }),
    outputFields: { todo: Todo },
    run: async (input, { tx, scope, idFor }) => {
      const todo = await insertTodo(tx, idFor(TODO_NAMESPACE), scope, input.title);
      await hooks.duringImport?.(input.title, scope);
      if (input.title === "boom" || hooks.failImport?.(input.title)) throw new Error("the import service fell over");
      return { todo };
    },
  });

  builder.idempotentMutationField("createApiToken", {
    inputFields: (t) => ({ label: t.string({ required: true }) }),
    outputFields: { token: "String" },
    sensitive: true,
    run: async (input, { tx, scope, idFor }) => {
      await insertTodo(tx, idFor(TODO_NAMESPACE), scope, `token for ${input.label}`);
      return { token: `secret_${randomBytes(16).toString("hex")}` };
    },
  });

  return builder.toSchema();
}
