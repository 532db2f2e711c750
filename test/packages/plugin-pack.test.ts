import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminSql, databaseUrlOnAdminServer } from "../../scripts/postgres-admin.ts";
import { postgresAvailable } from "../helpers/databases.ts";
import { installedNames, installInto, packStaged, run, typeCheckAsConsumer, versionInRoot } from "../helpers/packing.ts";

/**
 * @onceql/pothos-plugin-idempotency as an adopter gets it: `npm pack` of the package (whose prepack
 * builds dist with declarations), the tarball installed into an empty project with what the
 * README's install line lists (@pothos/core, @pothos/plugin-errors, graphql, graphql-yoga, pg, at
 * the versions of the root lockfile, from the npm registry through the cache `npm ci` filled,
 * with --prefer-offline) and @types/pg for the type check, then the README's quick start:
 *
 * - as a plain .mjs run by Node: the quick start's TypeScript with its types removed (by
 *   `ts.transpileModule`, here, before it is written; Node in the project runs JavaScript only),
 *   against a fresh PostgreSQL database of its own: a replay, a reused key, 20 concurrent duplicates;
 * - as .ts, type-checked by tsc (strict, skipLibCheck false) against the published declarations,
 *   with a file of its own proving the builder option, `idempotentMutationField` and the `Tx` type.
 *
 * The pack runs in a copy of the package outside the repository (see client-pack.test.ts): prepack
 * empties and rewrites dist, which would change the checkout under whoever is using it.
 */

const repo = path.resolve(import.meta.dirname, "../..");
const packageDir = path.join(repo, "packages/pothos-plugin-idempotency");
const PACKAGE = "@onceql/pothos-plugin-idempotency";

const root = mkdtempSync(path.join(tmpdir(), "onceql-plugin-pack-"));
const stage = path.join(root, "stage");
const packs = path.join(root, "packs");
const project = path.join(root, "project");
const installed = path.join(project, "node_modules", PACKAGE);
const databaseName = `onceql_plugin_pack_${randomBytes(6).toString("hex")}`;

/** What the README's install line lists besides the tarball, at the root lockfile's versions. */
const PEERS = ["@pothos/core", "@pothos/plugin-errors", "graphql", "graphql-yoga", "pg"];
/** Only for the type check: pg ships no declarations. */
const TYPES = ["@types/pg"];
const DEPENDENCIES = ["canonicalize", "lru-cache", "uuid"];
/** Optional peers, for drivers and metrics the quick start does not use: nothing must pull them in. */
const OPTIONAL_PEERS = ["@electric-sql/pglite", "@prisma/client", "@prisma/driver-adapter-utils", "prom-client"];

/** The README's quick start, as the tarball ships it. */
function readmeQuickStart(): string {
  const readme = readFileSync(path.join(installed, "README.md"), "utf8");
  const block = /## Quick start[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block, "README.md has a ```ts block under Quick start").toBeDefined();
  return block!;
}

/** The quick start's TypeScript as JavaScript: the same code, without its types. */
function withoutTypes(source: string): string {
  const { outputText, diagnostics } = ts.transpileModule(source, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, verbatimModuleSyntax: false },
    reportDiagnostics: true,
  });
  expect(diagnostics ?? []).toEqual([]);
  return outputText;
}

/** Runs against the quick start's yoga through `yoga.fetch`, and prints what it saw as one JSON line. */
const CHECK_MJS = `import { idempotency, pool, yoga } from "./quick-start.mjs";

const CREATE_TODO = \`mutation CreateTodo($input: CreateTodoInput!) {
  createTodo(input: $input) { __typename ... on CreateTodoPayload { clientMutationId todo { id title } } }
}\`;

async function createTodo(input) {
  const response = await yoga.fetch("http://localhost/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", "x-tenant-id": "acme" },
    body: JSON.stringify({ query: CREATE_TODO, variables: { input } }),
  });
  return { status: response.status, replayedHeader: response.headers.get("idempotent-replayed"), body: await response.json() };
}

const rowsTitled = async (title) => (await pool.query("SELECT count(*)::int AS n FROM todos WHERE title = $1", [title])).rows[0].n;

const first = await createTodo({ clientMutationId: "todo-1", title: "Buy milk" });
const second = await createTodo({ clientMutationId: "todo-1", title: "Buy milk" });
const reused = await createTodo({ clientMutationId: "todo-1", title: "Buy bread" });
const concurrent = await Promise.all(Array.from({ length: 20 }, () => createTodo({ clientMutationId: "todo-2", title: "Walk the dog" })));

console.log(
  JSON.stringify({
    resolved: import.meta.resolve("@onceql/pothos-plugin-idempotency"),
    first,
    second,
    reused,
    milkRows: await rowsTitled("Buy milk"),
    breadRows: await rowsTitled("Buy bread"),
    concurrent: {
      statuses: concurrent.map((one) => one.body.extensions?.idempotency?.[0]?.status ?? null),
      errors: concurrent.flatMap((one) => one.body.errors ?? []),
      todoIds: [...new Set(concurrent.map((one) => one.body.data?.createTodo?.todo?.id ?? null))],
      rows: await rowsTitled("Walk the dog"),
    },
  }),
);
await idempotency.close();
await pool.end();
`;

/** What the quick start's types must allow, and refuse: the builder option, the field's options, `tx`. */
const TYPES_TS = `import SchemaBuilder from "@pothos/core";
import ErrorsPlugin from "@pothos/plugin-errors";
import IdempotencyPlugin, { createIdempotency, type Idempotency, type MutationEvent } from "@onceql/pothos-plugin-idempotency";
import { pgDriver } from "@onceql/pothos-plugin-idempotency/pg";
import type { Plugin } from "graphql-yoga";
import { useIdempotency } from "@onceql/pothos-plugin-idempotency/yoga";
import pg from "pg";

const idempotency: Idempotency = createIdempotency({ driver: pgDriver(new pg.Pool()), ttl: "24h", waitMs: 10_000 });
const yogaPlugin: Plugin = useIdempotency();

// @ts-expect-error: the builder option needs scope
new SchemaBuilder<{ Context: { tenantId: string } }>({ plugins: [ErrorsPlugin, IdempotencyPlugin], idempotency: { runner: idempotency } });

const builder = new SchemaBuilder<{ Context: { tenantId: string }; Idempotency: { Tx: pg.PoolClient } }>({
  plugins: [ErrorsPlugin, IdempotencyPlugin],
  idempotency: {
    runner: idempotency,
    scope: (ctx) => ctx.tenantId,
    prepareInput: (input) => input,
    onMutation: (event: MutationEvent, ctx) => void [event.status, event.durationMs, ctx.tenantId],
  },
});
builder.queryType({ fields: (t) => ({ ok: t.boolean({ resolve: () => true }) }) });
builder.mutationType({});

const { inputType, payloadType } = builder.idempotentMutationField("renameTodo", {
  inputFields: (t) => ({ id: t.id({ required: true }), title: t.string({ required: true }) }),
  outputFields: { title: "String", previous: { type: "String", nullable: true } },
  run: async (input, { tx, scope, idFor, checkpoint, foundEarlier }, ctx) => {
    const client: pg.PoolClient = tx;
    // @ts-expect-error: tx is a pg.PoolClient, which has no such method (were it any, this would compile)
    tx.notAMethod();
    const title: string = input.title;
    // @ts-expect-error: input.title is a string
    const wrong: number = input.title;
    await checkpoint();
    void [client, scope, idFor("3c0d6c8e-5f43-4b7e-9d2a-8f1e0b6a4c21"), ctx.tenantId, wrong];
    return foundEarlier({ title, previous: null });
  },
});

builder.idempotentMutationField("archiveTodo", {
  inputFields: (t) => ({ id: t.id({ required: true }) }),
  outputFields: { archived: "Boolean" },
  // @ts-expect-error: the payload's archived is a Boolean
  run: async () => ({ archived: "yes" }),
});

void [inputType, payloadType, yogaPlugin, builder.toSchema()];
`;

/** Its published declarations are checked too (and Pothos', yoga's, graphql's, pg's), not only these files. */
const TSCONFIG = {
  compilerOptions: {
    // The one exception to strict: graphql-yoga's own lru-cache@10 declares its iterators as
    // Generator<T, void>, which TypeScript 5.6's strictBuiltinIteratorReturn refuses as a Map's.
    strictBuiltinIteratorReturn: false,
    lib: ["ES2023", "DOM", "DOM.Iterable"],
    types: ["node"],
  },
  files: ["quick-start.ts", "types.ts"],
};

let packedFiles: string[];
let databaseUrl: string;
const timings: Record<string, number> = {};

async function packAndInstall() {
  const pack = await packStaged({ packageDir, entries: ["package.json", "README.md", "tsconfig.build.json", "src", "sql"], stage, packs });
  timings.pack = pack.ms;
  packedFiles = pack.files.map((file) => file.path).sort();
  const specs = [pack.tarball, ...[...PEERS, ...TYPES].map((name) => `${name}@${versionInRoot(name)}`)];
  const install = await installInto(project, "onceql-plugin-adopter", specs, 170_000);
  timings.install = install.ms;
}

async function createDatabase() {
  await adminSql(`CREATE DATABASE ${databaseName}`);
  databaseUrl = databaseUrlOnAdminServer(databaseName);
}

describe.skipIf(!postgresAvailable())(`${PACKAGE} packed with npm pack and installed from the tarball`, () => {
  beforeAll(async () => {
    for (const dir of [stage, packs, project]) mkdirSync(dir);
    const started = performance.now();
    await Promise.all([packAndInstall(), createDatabase()]);
    timings.setup = performance.now() - started;
  }, 240_000);

  afterAll(async () => {
    if (databaseUrl) await adminSql(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
    rmSync(root, { recursive: true, force: true });
    const shown = Object.entries(timings).map(([step, ms]) => `${step} ${(ms / 1000).toFixed(1)} s`);
    console.info(`plugin pack test: ${shown.join(", ")}`);
  });

  it("holds dist (built by prepack, with declarations), sql/schema.sql, README.md and package.json, and no sources", () => {
    expect(packedFiles).toEqual(
      expect.arrayContaining([
        "README.md",
        "package.json",
        "sql/schema.sql",
        "dist/index.js",
        "dist/index.d.ts",
        "dist/global-types.d.ts",
        "dist/drivers/pg.js",
        "dist/drivers/pg.d.ts",
        "dist/yoga.js",
        "dist/yoga.d.ts",
      ]),
    );
    const others = packedFiles.filter(
      (file) => !["README.md", "package.json", "sql/schema.sql"].includes(file) && !file.startsWith("dist/"),
    );
    expect(others).toEqual([]);
    expect(packedFiles.filter((file) => file.startsWith("src/") || (file.endsWith(".ts") && !file.endsWith(".d.ts")))).toEqual([]);
    expect(readFileSync(path.join(installed, "sql/schema.sql"), "utf8")).toBe(
      readFileSync(path.join(packageDir, "sql/schema.sql"), "utf8"),
    );
  });

  it("depends on canonicalize, lru-cache and uuid only; Pothos, graphql, yoga, pg and the rest are peers", () => {
    const manifest = JSON.parse(readFileSync(path.join(installed, "package.json"), "utf8"));
    expect(Object.keys(manifest.dependencies).sort()).toEqual(DEPENDENCIES);
    expect(Object.keys(manifest.peerDependencies).sort()).toEqual([...PEERS, ...OPTIONAL_PEERS].sort());
    for (const script of ["preinstall", "install", "postinstall", "prepare"]) expect(manifest.scripts?.[script], script).toBeUndefined();
    for (const [subpath, target] of Object.entries(manifest.exports as Record<string, string | Record<string, string>>)) {
      const targets = typeof target === "string" ? [target] : [target.types!, target.default!];
      for (const file of targets) expect(existsSync(path.join(installed, file)), `${subpath}: ${file}`).toBe(true);
    }
    const found = installedNames(path.join(project, "node_modules"));
    expect(found).toEqual(expect.arrayContaining([...PEERS, ...DEPENDENCIES]));
    expect(found.filter((name) => OPTIONAL_PEERS.includes(name) || name.startsWith("@prisma/"))).toEqual([]);
  });

  it("imports at runtime only its dependencies, its peers and node: builtins, and every relative import exists", () => {
    const manifest = JSON.parse(readFileSync(path.join(installed, "package.json"), "utf8"));
    const allowed = new Set([...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies)]);
    const dir = path.join(installed, "dist");
    const external = new Set<string>();
    for (const file of readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((name) => /\.(?:[cm]?js|d\.ts)$/.test(name))) {
      const source = readFileSync(path.join(dir, file), "utf8");
      for (const { fileName: specifier } of ts.preProcessFile(source, true, true).importedFiles) {
        if (specifier.startsWith(".")) {
          // tsc's declarations keep the sources' ./x.ts specifiers, which TypeScript (5.0 on) reads as ./x.d.ts.
          const declared = file.endsWith(".d.ts") ? specifier.replace(/\.[jt]s$/, ".d.ts") : specifier;
          expect(existsSync(path.resolve(dir, path.dirname(file), declared)), `${file} imports ${specifier}`).toBe(true);
          if (!file.endsWith(".d.ts")) expect(specifier, `${file} imports ${specifier}`).toMatch(/\.js$/);
        } else if (!specifier.startsWith("node:")) {
          external.add(specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0]!);
        }
      }
    }
    expect([...external].filter((name) => !allowed.has(name))).toEqual([]);
  });

  it("the README's quick start, as a plain .mjs run by node, replays, refuses a reused key, and runs 20 concurrent duplicates once", async () => {
    writeFileSync(path.join(project, "quick-start.mjs"), withoutTypes(readmeQuickStart()));
    writeFileSync(path.join(project, "check.mjs"), CHECK_MJS);
    const ran = await run(process.execPath, ["check.mjs"], { cwd: project, env: { DATABASE_URL: databaseUrl }, timeoutMs: 60_000 });
    timings.mjs = ran.ms;
    const line = ran.stdout.trim().split("\n").at(-1) ?? "";
    const output = JSON.parse(line);
    expect(output.resolved).toBe(`file://${path.join(installed, "dist/index.js")}`);

    const { first, second, reused, concurrent } = output;
    expect(first.status).toBe(200);
    expect(first.body.errors).toBeUndefined();
    expect(first.body.data.createTodo).toEqual({
      __typename: "CreateTodoPayload",
      clientMutationId: "todo-1",
      todo: { id: expect.stringMatching(/^[0-9a-f-]{36}$/), title: "Buy milk" },
    });
    expect(first.body.extensions.idempotency).toEqual([{ field: "createTodo", clientMutationId: "todo-1", status: "EXECUTED" }]);
    expect(first.replayedHeader).toBeNull();

    expect(second.body.data).toEqual(first.body.data);
    expect(second.body.extensions.idempotency).toEqual([{ field: "createTodo", clientMutationId: "todo-1", status: "REPLAYED" }]);
    expect(second.replayedHeader).toBe("true");
    expect(output.milkRows).toBe(1);

    expect(reused.body.data).toEqual({ createTodo: null });
    expect(reused.body.errors).toHaveLength(1);
    expect(reused.body.errors[0].extensions).toMatchObject({
      code: "IDEMPOTENCY_KEY_REUSED",
      originalMutation: "createTodo",
      differingFields: ["title"],
      outcome: "NOT_STORED",
    });
    expect(output.breadRows).toBe(0);

    expect(concurrent.errors).toEqual([]);
    expect(concurrent.statuses.filter((status: string) => status === "EXECUTED")).toHaveLength(1);
    expect(concurrent.statuses.filter((status: string) => status === "REPLAYED")).toHaveLength(19);
    expect(concurrent.todoIds).toHaveLength(1);
    expect(concurrent.todoIds[0]).toEqual(expect.any(String));
    expect(concurrent.rows).toBe(1);
  });

  it("survives a bundler that honours sideEffects: the builder's method is there once bundled", async () => {
    // Bundled, the plugin's modules are kept only when the package says they have effects: the one
    // that adds idempotentMutationField to SchemaBuilder has (before it was listed, esbuild dropped it).
    writeFileSync(
      path.join(project, "bundled-entry.mjs"),
      [
        'import SchemaBuilder from "@pothos/core";',
        'import IdempotencyPlugin from "@onceql/pothos-plugin-idempotency";',
        "const builder = new SchemaBuilder({ plugins: [IdempotencyPlugin] });",
        "console.log(typeof builder.idempotentMutationField);",
        "",
      ].join("\n"),
    );
    const { build } = await import("esbuild");
    await build({
      absWorkingDir: project,
      entryPoints: ["bundled-entry.mjs"],
      outfile: path.join(project, "bundled.mjs"),
      bundle: true,
      format: "esm",
      platform: "node",
      logLevel: "silent",
      banner: { js: 'import { createRequire } from "node:module"; const require = createRequire(import.meta.url);' },
    });
    const ran = await run(process.execPath, ["bundled.mjs"], { cwd: project });
    expect(ran.stdout.trim()).toBe("function");
  });

  it("the README's quick start as .ts type-checks (strict, skipLibCheck false) against the published declarations", async () => {
    writeFileSync(path.join(project, "quick-start.ts"), readmeQuickStart());
    writeFileSync(path.join(project, "types.ts"), TYPES_TS);
    const check = await typeCheckAsConsumer(project, TSCONFIG);
    timings.tsc = check.ms;
    expect(check.stdout).toContain(path.join(installed, "dist/index.d.ts"));
    expect(check.stdout).toContain(path.join(installed, "dist/global-types.d.ts"));
    expect(check.stdout).not.toContain(path.join(installed, "src"));
  });
});
