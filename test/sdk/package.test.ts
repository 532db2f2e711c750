import { spawn } from "node:child_process";
import { once } from "node:events";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

/**
 * The client as an application gets it: `npm pack` (whose prepack builds dist/client), the tarball
 * installed into an empty project, and `onceql/client` imported from a plain .mjs run by Node and
 * from a .ts file type-checked against the published declarations.
 *
 * The pack runs in a copy of the package (package.json, its `files` but no dist, tsconfig.client.json,
 * the repository's node_modules linked in) rather than in the checkout: `npm pack` also runs `prepare`
 * (prisma generate), which deletes and rewrites src/generated, and other test files running at the
 * same time import it.
 */

const repo = path.resolve(import.meta.dirname, "../..");
const tsc = path.join(repo, "node_modules/typescript/bin/tsc");
const tsx = path.join(repo, "node_modules/tsx/dist/cli.mjs");

const root = mkdtempSync(path.join(tmpdir(), "onceql-package-"));
const stage = path.join(root, "stage");
const packs = path.join(root, "packs");
const project = path.join(root, "project");
const installed = path.join(project, "node_modules/onceql");

/**
 * The environment without what npm hands to `npm test`'s script (npm_package_*, npm_lifecycle_*,
 * npm_config_*, which a nested npm would read as its settings), so that the commands below run as
 * in a fresh shell, and without NODE_OPTIONS, so that `node` is plain Node. The cache, registry and
 * proxy settings stay.
 */
const KEPT_NPM = /^npm_config_(cache|userconfig|globalconfig|cafile|registry|proxy|https_proxy|noproxy|strict_ssl)$/i;
const baseEnv: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !(/^npm_/i.test(name) && !KEPT_NPM.test(name)) && name !== "NODE_OPTIONS"),
);

interface Ran {
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command; if it fails, the error says which and carries all it printed. */
async function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Ran> {
  const started = performance.now();
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...baseEnv, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
    timeout: options.timeoutMs ?? 120_000,
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const [code, signal] = (await once(child, "close")) as [number | null, NodeJS.Signals | null];
  if (code !== 0) {
    const shown = [command === process.execPath ? "node" : command, ...args].join(" ");
    throw new Error(`\`${shown}\` in ${options.cwd} ended with ${code ?? signal}\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`);
  }
  return { stdout, stderr, ms: performance.now() - started };
}

/** The last line a script printed, as JSON. */
function lastJson(ran: Ran): Record<string, unknown> {
  const line = ran.stdout.trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`expected a JSON line, the script printed:\n${ran.stdout}\n--- stderr ---\n${ran.stderr}`);
  }
}

const CLIENT_MJS = `import { createClient, OnceqlError } from "onceql/client";

const client = createClient({ url: process.env.ONCEQL_URL, token: process.env.ONCEQL_TOKEN, maxAttempts: 1 });
const input = { clientMutationId: "package-test-mjs", externalId: "package-mjs" };
const results = [];
for (let i = 0; i < 2; i++) {
  const result = await client.CreateIdentity({ input });
  const payload = result.data.createIdentity;
  results.push({ replayed: result.replayed, typename: payload?.__typename, id: payload?.identity?.id });
}
const reused = await client.CreateIdentity({ input: { ...input, externalId: "someone-else" } }).catch((error) => error);
console.log(
  JSON.stringify({
    resolved: import.meta.resolve("onceql/client"),
    results,
    reused: { onceqlError: reused instanceof OnceqlError, code: reused.code },
  }),
);
`;

const CLIENT_TS = `import { type CreateIdentityMutation, createClient, OnceqlError, type OnceqlResult } from "onceql/client";

const url = process.env.ONCEQL_URL;
const token = process.env.ONCEQL_TOKEN;
if (!url || !token) throw new Error("ONCEQL_URL and ONCEQL_TOKEN are required");
const client = createClient({ url, token, maxAttempts: 1 });

function identityId(result: OnceqlResult<CreateIdentityMutation>): string {
  const payload = result.data.createIdentity;
  if (payload?.__typename !== "CreateIdentityPayload") throw new Error(\`unexpected \${payload?.__typename}\`);
  // @ts-expect-error: the payload has no secret (were the types any, this line would not compile)
  payload.secret;
  return payload.identity.id;
}

export function neverCalled() {
  // @ts-expect-error: CreateIdentityInput requires externalId
  return client.CreateIdentity({ input: { clientMutationId: "x" } });
}

const input = { clientMutationId: "package-test-ts", externalId: "package-ts" };
const first = await client.CreateIdentity({ input });
const second = await client.CreateIdentity({ input });
const reused: unknown = await client.CreateIdentity({ input: { ...input, externalId: "someone-else" } }).catch((error: unknown) => error);
const code: string | undefined = reused instanceof OnceqlError ? reused.code : undefined;
console.log(
  JSON.stringify({
    results: [first, second].map((result) => ({ replayed: result.replayed, id: identityId(result) })),
    reused: { onceqlError: reused instanceof OnceqlError, code },
  }),
);
`;

const TSCONFIG = {
  compilerOptions: {
    target: "ES2022",
    module: "NodeNext",
    moduleResolution: "NodeNext",
    strict: true,
    noEmit: true,
    // Check onceql's published declarations too, not only this file.
    skipLibCheck: false,
    types: ["node"],
  },
  files: ["client.ts"],
};

let app: TestApp;
let env: NodeJS.ProcessEnv;
let install: Ran;
const timings: Record<string, number> = {};

async function packAndInstall() {
  const manifest = JSON.parse(readFileSync(path.join(repo, "package.json"), "utf8")) as { files: string[] };
  const entries = [
    ...manifest.files.filter((entry) => entry !== "dist"),
    "package.json",
    "README.md",
    ".gitignore",
    "tsconfig.client.json",
  ];
  for (const entry of entries) {
    if (existsSync(path.join(repo, entry))) cpSync(path.join(repo, entry), path.join(stage, entry), { recursive: true });
  }
  expect(existsSync(path.join(stage, "dist"))).toBe(false);
  // The scripts (tsc, prisma) from the repository's node_modules. jiti, which loads prisma.config.ts,
  // would otherwise leave a cache file per staged copy in node_modules/.cache.
  symlinkSync(path.join(repo, "node_modules"), path.join(stage, "node_modules"), "dir");
  const pack = await run("npm", ["pack", "--pack-destination", packs], { cwd: stage, env: { JITI_FS_CACHE: "false" } });
  timings.pack = pack.ms;
  const tarballs = readdirSync(packs).filter((name) => name.endsWith(".tgz"));
  expect(tarballs, pack.stdout).toHaveLength(1);

  writeFileSync(
    path.join(project, "package.json"),
    `${JSON.stringify({ name: "onceql-consumer", private: true, type: "module" }, null, 2)}\n`,
  );
  const typesNode = JSON.parse(readFileSync(path.join(repo, "node_modules/@types/node/package.json"), "utf8")).version as string;
  install = await run(
    "npm",
    [
      "install",
      path.join(packs, tarballs[0]!),
      `@types/node@${typesNode}`,
      "--no-audit",
      "--no-fund",
      "--prefer-offline",
      // Every lifecycle script's output in stdout, so that the test can tell prisma generate did not run.
      "--foreground-scripts",
    ],
    { cwd: project, timeoutMs: 150_000 },
  );
  timings.install = install.ms;
}

beforeAll(async () => {
  for (const dir of [stage, packs, project]) mkdirSync(dir);
  const started = performance.now();
  [app] = await Promise.all([startTestApp(), packAndInstall()]);
  env = { ONCEQL_URL: `${await app.listen()}/graphql`, ONCEQL_TOKEN: app.token };
  timings.setup = performance.now() - started;
}, 180_000);

afterAll(async () => {
  await app?.close();
  rmSync(root, { recursive: true, force: true });
  const shown = Object.entries(timings).map(([step, ms]) => `${step} ${(ms / 1000).toFixed(1)} s`);
  console.info(`package test: ${shown.join(", ")}`);
});

describe("the client packed with npm pack and installed from the tarball", () => {
  it("was built by prepack, with declarations, and installing it did not run prisma generate", () => {
    const files = readdirSync(path.join(installed, "dist/client")).sort();
    expect(files).toEqual(expect.arrayContaining(["client.js", "client.d.ts", "generated.js", "generated.d.ts"]));
    const manifest = JSON.parse(readFileSync(path.join(installed, "package.json"), "utf8"));
    expect(manifest.exports["./client"]).toEqual({ types: "./dist/client/client.d.ts", default: "./dist/client/client.js" });
    for (const script of ["preinstall", "install", "postinstall"]) expect(manifest.scripts[script], script).toBeUndefined();
    expect(install.stdout).not.toMatch(/> onceql@\S+ (preinstall|install|postinstall|prepare)\b/);
    expect(install.stdout + install.stderr).not.toContain("Generated Prisma Client");
    // What the server (the "." export) needs of it comes generated in the tarball instead: pack ran prepare.
    expect(existsSync(path.join(installed, "src/generated/prisma/client.ts"))).toBe(true);
  });

  it("needs at runtime only graphql-request, graphql and node: builtins", () => {
    const dir = path.join(installed, "dist/client");
    const external = new Set<string>();
    for (const file of readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((name) => /\.[cm]?js$/.test(name))) {
      const source = readFileSync(path.join(dir, file), "utf8");
      for (const { fileName: specifier } of ts.preProcessFile(source, true, true).importedFiles) {
        if (specifier.startsWith(".")) {
          expect(existsSync(path.resolve(dir, path.dirname(file), specifier)), `${file} imports ${specifier}`).toBe(true);
        } else {
          external.add(specifier);
        }
      }
    }
    const packages = [...external].filter((specifier) => !specifier.startsWith("node:")).sort();
    expect(packages).toEqual(["graphql", "graphql-request"]);
    const manifest = JSON.parse(readFileSync(path.join(installed, "package.json"), "utf8"));
    for (const name of packages) expect(manifest.dependencies[name], name).toBeDefined();
  });

  it("a plain .mjs run by node imports onceql/client, and its second mutation with the same key is a replay", async () => {
    writeFileSync(path.join(project, "client.mjs"), CLIENT_MJS);
    const ran = await run(process.execPath, ["client.mjs"], { cwd: project, env });
    timings.mjs = ran.ms;
    const output = lastJson(ran) as {
      resolved: string;
      results: { replayed: boolean; typename: string; id: string }[];
      reused: { onceqlError: boolean; code: string };
    };
    expect(output.resolved).toBe(`file://${path.join(installed, "dist/client/client.js")}`);
    const [first, second] = output.results;
    expect(first).toEqual({ replayed: false, typename: "CreateIdentityPayload", id: expect.any(String) });
    expect(second).toEqual({ ...first, replayed: true });
    expect(output.reused).toEqual({ onceqlError: true, code: "IDEMPOTENCY_KEY_REUSED" });
  });

  it("a .ts file type-checks against the published declarations and runs", async () => {
    writeFileSync(path.join(project, "client.ts"), CLIENT_TS);
    writeFileSync(path.join(project, "tsconfig.json"), `${JSON.stringify(TSCONFIG, null, 2)}\n`);
    const check = await run(process.execPath, [tsc, "-p", ".", "--listFiles"], { cwd: project });
    timings.tsc = check.ms;
    expect(check.stdout).toContain(path.join(installed, "dist/client/client.d.ts"));
    const ran = await run(process.execPath, [tsx, "client.ts"], { cwd: project, env });
    timings.ts = ran.ms;
    const output = lastJson(ran) as { results: { replayed: boolean; id: string }[]; reused: { onceqlError: boolean; code: string } };
    const [first, second] = output.results;
    expect(first).toEqual({ replayed: false, id: expect.any(String) });
    expect(second).toEqual({ ...first, replayed: true });
    expect(output.reused).toEqual({ onceqlError: true, code: "IDEMPOTENCY_KEY_REUSED" });
  });
});
