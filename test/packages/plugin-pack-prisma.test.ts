import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminSql, databaseUrlOnAdminServer } from "../../scripts/postgres-admin.ts";
import { withSchemaEngine } from "../../src/db/schema-engine.ts";
import { postgresAvailable } from "../helpers/databases.ts";
import {
  codeBlocks,
  installedNames,
  installInto,
  packStaged,
  type Ran,
  readmeSection,
  run,
  typeCheckAsConsumer,
  versionInRoot,
} from "../helpers/packing.ts";

/**
 * The plugin's "Quick start with Prisma" as a team on Prisma 7 and @pothos/plugin-prisma gets it,
 * beside plugin-pack.test.ts's node-postgres one: the tarball of `npm pack` installed into an empty
 * project with what the section's install lines list (at the root lockfile's versions, from npm's
 * cache), then
 *
 * - its schema.prisma through the installed `prisma generate` (Prisma's client and Pothos' types),
 *   and its table made in a fresh PostgreSQL database with the SQL `prisma migrate dev` would write
 *   for it (Prisma's schema engine as WebAssembly, as `npm run db:diff` runs it: the native engine
 *   `prisma migrate` needs cannot be downloaded here);
 * - its server.ts run by tsx, as the section says (Prisma's generated client is TypeScript): a
 *   replay, a reused key, a stored domain error, 20 concurrent duplicates, and a second process (a
 *   second server, its cache empty) replaying from the database, the Decimal price included; and
 *   the same code with `client: () => prisma`, refused at `ensureSchema()`;
 * - the same code type-checked by tsc (strict, skipLibCheck false) against the published
 *   declarations and the generated client, with a file of its own proving `tx` is the PrismaClient.
 *
 * The tarball is packed here again rather than shared with plugin-pack.test.ts: a pack takes ~7 s,
 * and sharing one across test files (separate workers) would need a lock and a cleanup owner.
 */

const repo = path.resolve(import.meta.dirname, "../..");
const packageDir = path.join(repo, "packages/pothos-plugin-idempotency");
const PACKAGE = "@onceql/pothos-plugin-idempotency";
const HEADING = "Quick start with Prisma";
/** tsx and tsc run from the root's copies: the versions its lockfile holds, which the install line would get. */
const tsx = path.join(repo, "node_modules/tsx/dist/cli.mjs");

const root = mkdtempSync(path.join(tmpdir(), "onceql-plugin-pack-prisma-"));
const stage = path.join(root, "stage");
const packs = path.join(root, "packs");
const project = path.join(root, "project");
const installed = path.join(project, "node_modules", PACKAGE);
const databaseName = `onceql_plugin_pack_prisma_${randomBytes(6).toString("hex")}`;

/** What the section's two install lines list: the test fails when the README changes them. */
const INSTALL_LINE = [
  PACKAGE,
  "@pothos/core",
  "@pothos/plugin-errors",
  "@pothos/plugin-prisma",
  "@prisma/adapter-pg",
  "@prisma/client",
  "graphql",
  "graphql-yoga",
  "pg",
];
const DEV_LINE = ["prisma", "tsx", "typescript", "@types/pg"];

interface QuickStart {
  install: string[][];
  schema: string;
  code: string;
}

/** The section's install lines, schema.prisma and server.ts, as the given README has them. */
function quickStartIn(readmePath: string): QuickStart {
  const section = readmeSection(readFileSync(readmePath, "utf8"), HEADING);
  const [sh] = codeBlocks(section, "sh");
  const [schema] = codeBlocks(section, "prisma");
  const [code] = codeBlocks(section, "ts");
  expect(sh, "the section has a ```sh block").toBeDefined();
  expect(schema, "the section has a ```prisma block").toBeDefined();
  expect(code, "the section has a ```ts block").toBeDefined();
  const install = sh!
    .split("\n")
    .filter((line) => line.startsWith("npm install"))
    .map((line) =>
      line
        .replace(/#.*$/, "")
        .trim()
        .split(/\s+/)
        .slice(2)
        .filter((word) => !word.startsWith("-")),
    );
  return { install, schema: schema!, code: code! };
}

/** The last line a script printed, as JSON. */
function lastJson(ran: Ran) {
  const line = ran.stdout.trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`expected a JSON line, the script printed:\n${ran.stdout}\n--- stderr ---\n${ran.stderr}`);
  }
}

/** Sends `restock` to the quick start's yoga, and says what came back, the stock after it included. */
const CLIENT_MJS = `import { idempotency, pool, prisma, yoga } from "./server.ts";

const RESTOCK = \`mutation Restock($input: RestockInput!) {
  restock(input: $input) {
    __typename
    ... on RestockPayload { clientMutationId product { id sku name price stock } }
    ... on ProductNotFoundError { message sku }
  }
}\`;

async function post(query, variables) {
  const response = await yoga.fetch("http://localhost/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", "x-tenant-id": "acme" },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, replayedHeader: response.headers.get("idempotent-replayed"), body: await response.json() };
}
export const restock = (input) => post(RESTOCK, { input });
export const products = async () => (await post("{ products { sku price stock } }")).body;
export const stock = async () => (await pool.query(\`SELECT stock FROM "Product" WHERE sku = 'TEA-1'\`)).rows[0].stock;

export async function close() {
  await idempotency.close();
  await prisma.$disconnect();
  await pool.end();
}
`;

/** The first server: every case, in order. */
const CHECK_MJS = `import { close, products, restock, stock } from "./client.mjs";

const before = await stock();
const first = await restock({ clientMutationId: "restock-1", sku: "TEA-1", quantity: 5 });
const second = await restock({ clientMutationId: "restock-1", sku: "TEA-1", quantity: 5 });
const reused = await restock({ clientMutationId: "restock-1", sku: "TEA-1", quantity: 6 });
const afterFirst = await stock();
const missing = await restock({ clientMutationId: "restock-3", sku: "NOPE-1", quantity: 1 });
const missingAgain = await restock({ clientMutationId: "restock-3", sku: "NOPE-1", quantity: 1 });
const concurrent = await Promise.all(
  Array.from({ length: 20 }, () => restock({ clientMutationId: "restock-2", sku: "TEA-1", quantity: 7 })),
);
console.log(
  JSON.stringify({
    resolved: import.meta.resolve("@onceql/pothos-plugin-idempotency/prisma"),
    before,
    first,
    second,
    reused,
    afterFirst,
    missing,
    missingAgain,
    concurrent: {
      statuses: concurrent.map((one) => one.body.extensions?.idempotency?.[0]?.status ?? null),
      errors: concurrent.flatMap((one) => one.body.errors ?? []),
      payloads: [...new Set(concurrent.map((one) => JSON.stringify(one.body.data)))],
      stock: await stock(),
    },
    products: await products(),
  }),
);
await close();
`;

/** A second server on the same database: what the first stored, replayed without its memory. */
const REPLAY_MJS = `import { close, restock, stock } from "./client.mjs";

const first = await restock({ clientMutationId: "restock-1", sku: "TEA-1", quantity: 5 });
const concurrent = await restock({ clientMutationId: "restock-2", sku: "TEA-1", quantity: 7 });
const missing = await restock({ clientMutationId: "restock-3", sku: "NOPE-1", quantity: 1 });
console.log(JSON.stringify({ first, concurrent, missing, stock: await stock() }));
await close();
`;

/** What the quick start's types must allow and refuse: \`tx\` is the generated PrismaClient, not any. */
const TYPES_TS = `import SchemaBuilder from "@pothos/core";
import ErrorsPlugin from "@pothos/plugin-errors";
import PrismaPlugin from "@pothos/plugin-prisma";
import IdempotencyPlugin, { createIdempotency, type Idempotency } from "@onceql/pothos-plugin-idempotency";
import { prismaDriver } from "@onceql/pothos-plugin-idempotency/prisma";
import { PrismaPg } from "@prisma/adapter-pg";
import type PrismaTypes from "./generated/pothos-types.js";
import { getDatamodel } from "./generated/pothos-types.js";
import { PrismaClient } from "./generated/prisma/client.js";

const adapter = new PrismaPg({ connectionString: "postgresql://localhost/shop" });
const prisma = new PrismaClient({ adapter });
const idempotency: Idempotency = createIdempotency({
  driver: prismaDriver({ adapter, client: (adapter) => new PrismaClient({ adapter }) }),
});
// @ts-expect-error: client makes a client from the adapter it is given; a client is not that
prismaDriver({ adapter, client: prisma });

const builder = new SchemaBuilder<{ PrismaTypes: PrismaTypes; Idempotency: { Tx: PrismaClient } }>({
  plugins: [ErrorsPlugin, PrismaPlugin, IdempotencyPlugin],
  prisma: { client: prisma, dmmf: getDatamodel() },
  idempotency: { runner: idempotency, scope: () => "demo" },
});
const Product = builder.prismaObject("Product", { fields: (t) => ({ sku: t.exposeString("sku") }) });
builder.queryType({ fields: (t) => ({ ok: t.boolean({ resolve: () => true }) }) });
builder.mutationType({});

builder.idempotentMutationField("rename", {
  inputFields: (t) => ({ sku: t.string({ required: true }), name: t.string({ required: true }) }),
  outputFields: { product: Product },
  run: async (input, { tx }) => {
    const client: PrismaClient = tx;
    // @ts-expect-error: the schema has no Warehouse model (were tx any, this would compile)
    await tx.warehouse.findMany();
    const product = await client.product.update({ where: { sku: input.sku }, data: { name: input.name } });
    // @ts-expect-error: price is Prisma's Decimal, not a number
    const price: number = product.price;
    void price;
    return { product };
  },
});

builder.idempotentMutationField("misplace", {
  inputFields: (t) => ({ sku: t.string({ required: true }) }),
  outputFields: { product: Product },
  // @ts-expect-error: the payload's product is a Product row, not its SKU
  run: async (input) => ({ product: { sku: input.sku } }),
});

void builder.toSchema();
`;

const TSCONFIG = {
  compilerOptions: {
    // The one exception to strict, as in plugin-pack.test.ts: graphql-yoga's own lru-cache@10
    // declares its iterators as Generator<T, void>, which strictBuiltinIteratorReturn refuses as a
    // Map's. (Prisma marks its generated client @ts-nocheck itself; what is checked there is the
    // quick start's use of it, through the types it declares, and Pothos' generated types.)
    strictBuiltinIteratorReturn: false,
    lib: ["ES2023", "DOM", "DOM.Iterable"],
    types: ["node"],
  },
  files: ["server.ts", "types.ts"],
};

let databaseUrl: string;
let migrationSql: string;
const timings: Record<string, number> = {};

async function packAndInstall() {
  const pack = await packStaged({ packageDir, entries: ["package.json", "README.md", "tsconfig.build.json", "src", "sql"], stage, packs });
  timings.pack = pack.ms;
  const { install } = quickStartIn(path.join(stage, "README.md"));
  expect(install).toEqual([INSTALL_LINE, DEV_LINE]);
  const fromRoot = ["tsx", "typescript"];
  const names = install.flat().filter((name) => name !== PACKAGE && !fromRoot.includes(name));
  const ran = await installInto(
    project,
    "onceql-plugin-prisma-adopter",
    [pack.tarball, ...names.map((name) => `${name}@${versionInRoot(name)}`)],
    170_000,
  );
  timings.install = ran.ms;
}

async function createDatabase() {
  await adminSql(`CREATE DATABASE ${databaseName}`);
  databaseUrl = databaseUrlOnAdminServer(databaseName);
}

/** `npx prisma generate` in the project, with the schema.prisma the installed README shows. */
async function generate(schema: string) {
  mkdirSync(path.join(project, "prisma"));
  writeFileSync(path.join(project, "prisma/schema.prisma"), schema);
  const ran = await run(path.join(project, "node_modules/.bin/prisma"), ["generate"], {
    cwd: project,
    env: {
      // As the root's prisma.config.ts does: the CLI wants a native schema engine it cannot
      // download here, and generate never runs it.
      PRISMA_SCHEMA_ENGINE_BINARY: path.join(repo, "scripts/no-schema-engine.sh"),
      // No update check or telemetry: nothing of it is reachable from here.
      CHECKPOINT_DISABLE: "1",
    },
  });
  timings.generate = ran.ms;
}

/** The SQL `prisma migrate dev --name init` would write for `schema`, applied to the fresh database. */
async function migrate(schema: string) {
  const started = performance.now();
  const { stdout } = await withSchemaEngine(schema, new PrismaPg({ connectionString: databaseUrl }), (engine) =>
    engine.diff({
      from: { tag: "empty" },
      to: { tag: "schemaDatamodel", files: [{ path: "prisma/schema.prisma", content: schema }] },
      script: true,
      exitCode: null,
      filters: { externalTables: [], externalEnums: [] },
    }),
  );
  migrationSql = stdout ?? "";
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(migrationSql);
  } finally {
    await client.end();
  }
  timings.migrate = performance.now() - started;
}

/** Runs a project file with tsx, as `npx tsx` would, against the fresh database. */
const runTsx = (file: string) =>
  run(process.execPath, [tsx, file], { cwd: project, env: { DATABASE_URL: databaseUrl }, timeoutMs: 60_000 });

describe.skipIf(!postgresAvailable())(`${PACKAGE}'s "${HEADING}" from the installed tarball`, () => {
  let quickStart: QuickStart;

  beforeAll(async () => {
    for (const dir of [stage, packs, project]) mkdirSync(dir);
    const started = performance.now();
    await Promise.all([packAndInstall(), createDatabase()]);
    quickStart = quickStartIn(path.join(installed, "README.md"));
    await generate(quickStart.schema);
    await migrate(quickStart.schema);
    writeFileSync(path.join(project, "server.ts"), quickStart.code);
    writeFileSync(path.join(project, "client.mjs"), CLIENT_MJS);
    timings.setup = performance.now() - started;
  }, 240_000);

  afterAll(async () => {
    if (databaseUrl) await adminSql(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
    rmSync(root, { recursive: true, force: true });
    const shown = Object.entries(timings).map(([step, ms]) => `${step} ${(ms / 1000).toFixed(1)} s`);
    console.info(`plugin pack test (Prisma): ${shown.join(", ")}`);
  });

  it("installs one copy each of Prisma's client, Pothos and graphql, and its schema.prisma generates and migrates", () => {
    const found = installedNames(path.join(project, "node_modules"));
    expect(found).toEqual(expect.arrayContaining([...INSTALL_LINE, "prisma", "@types/pg"]));
    // A second copy of Prisma's runtime would give the client's Decimal another class than the plugin's.
    for (const name of ["@prisma/client", "@pothos/core", "graphql"]) {
      expect(
        found.filter((one) => one === name),
        name,
      ).toHaveLength(1);
    }
    for (const file of ["generated/prisma/client.ts", "generated/pothos-types.ts"]) {
      expect(existsSync(path.join(project, file)), file).toBe(true);
    }
    expect(migrationSql).toContain('CREATE TABLE "Product"');
    expect(migrationSql).toContain('"price" DECIMAL(10,2) NOT NULL');
  });

  it("with `client: () => prisma` it stops at ensureSchema(), naming the fix, before it creates or writes anything", async () => {
    const fixed = "client: (adapter) => new PrismaClient({ adapter })";
    expect(quickStart.code.split(fixed)).toHaveLength(2);
    writeFileSync(path.join(project, "refused.ts"), quickStart.code.replace(fixed, "client: () => prisma"));
    const ensureSchemaLine = quickStart.code.split("\n").findIndex((line) => line.startsWith("await idempotency.ensureSchema()")) + 1;
    expect(ensureSchemaLine).toBeGreaterThan(0);

    const failure = await runTsx("refused.ts").then(
      () => undefined,
      (error: Error) => error.message,
    );
    expect(failure, "the process ends with the refusal").toBeDefined();
    expect(failure).toContain("UnsupportedSetupError: prismaDriver:");
    expect(failure).toContain(`Build it on that adapter: \`${fixed}\``);
    expect(failure).toContain(`refused.ts:${ensureSchemaLine}:`);

    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query(
        `SELECT to_regclass('onceql_idempotency_records') AS records, (SELECT count(*)::int FROM "Product") AS products`,
      );
      expect(rows).toEqual([{ records: null, products: 0 }]);
    } finally {
      await client.end();
    }
  });

  it("run by tsx: replays with the Decimal price equal, refuses a reused key, stores a domain error, runs 20 concurrent duplicates once", async () => {
    writeFileSync(path.join(project, "check.mjs"), CHECK_MJS);
    const ran = await runTsx("check.mjs");
    timings.run = ran.ms;
    const output = lastJson(ran);
    expect(output.resolved).toBe(`file://${path.join(installed, "dist/drivers/prisma.js")}`);
    const { first, second, reused, missing, missingAgain, concurrent } = output;

    expect(output.before).toBe(10);
    expect(first.status).toBe(200);
    expect(first.body.errors).toBeUndefined();
    expect(first.body.data.restock).toEqual({
      __typename: "RestockPayload",
      clientMutationId: "restock-1",
      product: { id: expect.any(String), sku: "TEA-1", name: "Green tea", price: "4.50", stock: 15 },
    });
    expect(first.body.extensions.idempotency).toEqual([{ field: "restock", clientMutationId: "restock-1", status: "EXECUTED" }]);
    expect(first.replayedHeader).toBeNull();

    // The payload's product is replayed as stored, its Decimal revived (toFixed ran on it again).
    expect(second.body.errors).toBeUndefined();
    expect(second.body.data).toEqual(first.body.data);
    expect(second.body.extensions.idempotency).toEqual([{ field: "restock", clientMutationId: "restock-1", status: "REPLAYED" }]);
    expect(second.replayedHeader).toBe("true");

    expect(reused.body.data).toEqual({ restock: null });
    expect(reused.body.errors).toHaveLength(1);
    expect(reused.body.errors[0].extensions).toMatchObject({
      code: "IDEMPOTENCY_KEY_REUSED",
      originalMutation: "restock",
      differingFields: ["quantity"],
      outcome: "NOT_STORED",
    });
    expect(output.afterFirst).toBe(15);

    expect(missing.body.data.restock).toEqual({ __typename: "ProductNotFoundError", message: "No product has SKU NOPE-1", sku: "NOPE-1" });
    expect(missing.body.extensions.idempotency[0].status).toBe("EXECUTED");
    expect(missingAgain.body.data).toEqual(missing.body.data);
    expect(missingAgain.body.extensions.idempotency[0].status).toBe("REPLAYED");

    expect(concurrent.errors).toEqual([]);
    expect(concurrent.statuses.filter((status: string) => status === "EXECUTED")).toHaveLength(1);
    expect(concurrent.statuses.filter((status: string) => status === "REPLAYED")).toHaveLength(19);
    expect(concurrent.payloads).toHaveLength(1);
    expect(JSON.parse(concurrent.payloads[0]).restock.product).toMatchObject({ price: "4.50", stock: 22 });
    expect(concurrent.stock).toBe(22);
    expect(output.products).toEqual({ data: { products: [{ sku: "TEA-1", price: "4.50", stock: 22 }] } });

    // A second server, its cache empty: every answer comes from the records in PostgreSQL.
    writeFileSync(path.join(project, "replay.mjs"), REPLAY_MJS);
    const replayed = lastJson(await runTsx("replay.mjs"));
    expect(replayed.first.body.data).toEqual(first.body.data);
    expect(replayed.concurrent.body.data).toEqual(JSON.parse(concurrent.payloads[0]));
    expect(replayed.missing.body.data).toEqual(missing.body.data);
    for (const one of [replayed.first, replayed.concurrent, replayed.missing]) {
      expect(one.body.extensions.idempotency[0].status).toBe("REPLAYED");
    }
    expect(replayed.stock).toBe(22);
  });

  it("type-checks as .ts (strict, skipLibCheck false) against the published declarations and the generated client", async () => {
    writeFileSync(path.join(project, "types.ts"), TYPES_TS);
    const check = await typeCheckAsConsumer(project, TSCONFIG);
    timings.tsc = check.ms;
    for (const file of [
      path.join(installed, "dist/index.d.ts"),
      path.join(installed, "dist/drivers/prisma.d.ts"),
      path.join(project, "node_modules/@pothos/plugin-prisma/esm/index.d.ts"),
      path.join(project, "generated/pothos-types.ts"),
      path.join(project, "generated/prisma/client.ts"),
    ]) {
      expect(check.stdout, file).toContain(file);
    }
    expect(check.stdout).not.toContain(path.join(installed, "src"));
  });
});
