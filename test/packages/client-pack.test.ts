import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installedNames, installInto, packStaged, type Ran, run, typeCheckAsConsumer, versionInRoot } from "../helpers/packing.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

/**
 * @onceql/client as an application gets it: `npm pack` of packages/client (whose prepack builds
 * dist with declarations), the tarball installed into an empty project together with graphql and
 * nothing else (what the package's README says to install), and the package imported from a plain
 * .mjs run by Node and from a .ts file type-checked against the published declarations, each
 * replaying a mutation against the app.
 *
 * The pack runs in a copy of the package (its package.json, README.md, tsconfig.build.json and src,
 * the repository's node_modules linked in for tsc, graphql and graphql-request) rather than in
 * packages/client: prepack empties and rewrites dist, which would change the checkout under
 * whoever is using it, and the copy, outside the repository, is no npm workspace.
 */

const repo = path.resolve(import.meta.dirname, "../..");
const packageDir = path.join(repo, "packages/client");
const tsx = path.join(repo, "node_modules/tsx/dist/cli.mjs");

const root = mkdtempSync(path.join(tmpdir(), "onceql-client-pack-"));
const stage = path.join(root, "stage");
const packs = path.join(root, "packs");
const project = path.join(root, "project");
const installed = path.join(project, "node_modules/@onceql/client");
const peersProject = path.join(root, "project-with-peers");

/** The last line a script printed, as JSON. */
function lastJson(ran: Ran): Record<string, unknown> {
  const line = ran.stdout.trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`expected a JSON line, the script printed:\n${ran.stdout}\n--- stderr ---\n${ran.stderr}`);
  }
}

const CLIENT_MJS = `import { createClient, OnceqlError } from "@onceql/client";

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
    resolved: import.meta.resolve("@onceql/client"),
    results,
    reused: { onceqlError: reused instanceof OnceqlError, code: reused.code, outcome: reused.outcome },
  }),
);
`;

const CLIENT_TS = `import { type CreateIdentityMutation, createClient, type ErrorOutcome, OnceqlError, type OnceqlResult } from "@onceql/client";

// The project installs no @types/node (the README's install does not list it): what the file needs of Node.
declare const process: { env: Record<string, string | undefined> };

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
const outcome: ErrorOutcome | undefined = reused instanceof OnceqlError ? reused.outcome : undefined;
console.log(
  JSON.stringify({
    results: [first, second].map((result) => ({ replayed: result.replayed, id: identityId(result) })),
    reused: { onceqlError: reused instanceof OnceqlError, code, outcome },
  }),
);
`;

/** Its published declarations are checked too (and graphql-request's and graphql's), not only these files. */
const TSCONFIG = {
  compilerOptions: { lib: ["ES2022", "DOM"], types: [] },
  files: ["client.ts", "readme.ts"],
};

/** The README's quick start, as the tarball ships it, for tsc to check beside client.ts. */
function readmeQuickStart(): string {
  const readme = readFileSync(path.join(installed, "README.md"), "utf8");
  const block = /## Quick start[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block, "README.md has a ```ts block under Quick start").toBeDefined();
  return `${block}\ndeclare const process: { env: Record<string, string | undefined> };\n`;
}

const SUBPATHS = ["apollo", "urql", "fetch"] as const;

/** The subpaths' clients: optional peers, installed only in the second project, at the repository's versions. */
const OPTIONAL_PEERS = { "@apollo/client": "", rxjs: "", "@urql/core": "", wonka: "", "relay-runtime": "" };

/** Each subpath from the tarball in Node, each against the app: a mutation sent without a key comes back keyed. */
const SUBPATHS_MJS = `import { ApolloClient, ApolloLink, gql, HttpLink, InMemoryCache } from "@apollo/client";
import { createIdempotencyLink } from "@onceql/client/apollo";
import { idempotentFetch } from "@onceql/client/fetch";
import { idempotencyExchange } from "@onceql/client/urql";
import { Client, fetchExchange } from "@urql/core";
import { GraphQLClient } from "graphql-request";

const url = process.env.ONCEQL_URL;
const headers = { authorization: \`Bearer \${process.env.ONCEQL_TOKEN}\` };
const mutation = "mutation M($input: CreateIdentityInput!) { createIdentity(input: $input) { __typename ... on CreateIdentityPayload { clientMutationId } } }";
const keyOf = (data) => data?.createIdentity?.clientMutationId;

const apollo = new ApolloClient({
  cache: new InMemoryCache(),
  link: ApolloLink.from([createIdempotencyLink(), new HttpLink({ uri: url, headers })]),
});
const viaApollo = await apollo.mutate({ mutation: gql(mutation), variables: { input: { externalId: "pack-apollo" } } });
const urql = new Client({ url, fetchOptions: { headers }, exchanges: [idempotencyExchange(), fetchExchange] });
const viaUrql = await urql.mutation(mutation, { input: { externalId: "pack-urql" } }).toPromise();
const viaFetch = await new GraphQLClient(url, { headers, fetch: idempotentFetch() }).rawRequest(mutation, { input: { externalId: "pack-fetch" } });
console.log(
  JSON.stringify({
    resolved: ["apollo", "urql", "fetch"].map((subpath) => import.meta.resolve(\`@onceql/client/\${subpath}\`)),
    keys: [keyOf(viaApollo.data), keyOf(viaUrql.data), keyOf(viaFetch.data)],
    status: viaApollo.extensions?.idempotency?.[0]?.status,
  }),
);
`;

/** Names that would mean the server (or part of it) came along with the client. */
const SERVER_PACKAGES = /prisma|pglite|pino|pothos|yoga|graphql-armor|pg$|^pg-|onceql$|pothos-plugin-idempotency/;

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  link?: boolean;
}

/** The lockfile's path of the package `name` as required from the package at `from` (Node's lookup). */
function lockPathOf(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
  for (let dir = from; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf("/node_modules/")))) {
    const candidate = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!dir) return undefined;
  }
}

/** The packages installed at the lockfile paths `starts` and all that they depend on, by name. */
function closureOf(packages: Record<string, LockEntry>, starts: string[]): Set<string> {
  const seen = new Set<string>();
  const pending = [...starts];
  while (pending.length > 0) {
    const at = pending.pop()!;
    if (seen.has(at)) continue;
    seen.add(at);
    const entry = packages[at]!;
    const wanted = { ...entry.peerDependencies, ...entry.optionalDependencies, ...entry.dependencies };
    for (const name of Object.keys(wanted)) {
      const found = lockPathOf(packages, at, name);
      if (found) pending.push(found);
    }
  }
  return new Set([...seen].map(nameAt));
}

function nameAt(lockPath: string): string {
  return lockPath.slice(lockPath.lastIndexOf("node_modules/") + "node_modules/".length);
}

let app: TestApp;
let env: NodeJS.ProcessEnv;
let install: Ran;
let packedFiles: string[];
let tarball: string;
const timings: Record<string, number> = {};

async function packAndInstall() {
  const pack = await packStaged({ packageDir, entries: ["package.json", "README.md", "tsconfig.build.json", "src"], stage, packs });
  timings.pack = pack.ms;
  packedFiles = pack.files.map((file) => file.path).sort();
  tarball = pack.tarball;
  install = await installInto(project, "onceql-client-consumer", [pack.tarball, `graphql@${versionInRoot("graphql")}`], 150_000);
  timings.install = install.ms;
}

beforeAll(async () => {
  for (const dir of [stage, packs, project, peersProject]) mkdirSync(dir);
  const started = performance.now();
  [app] = await Promise.all([startTestApp(), packAndInstall()]);
  env = { ONCEQL_URL: `${await app.listen()}/graphql`, ONCEQL_TOKEN: app.token };
  timings.setup = performance.now() - started;
}, 180_000);

afterAll(async () => {
  await app?.close();
  rmSync(root, { recursive: true, force: true });
  const shown = Object.entries(timings).map(([step, ms]) => `${step} ${(ms / 1000).toFixed(1)} s`);
  console.info(`client pack test: ${shown.join(", ")}`);
});

describe("@onceql/client packed with npm pack and installed from the tarball", () => {
  it("holds dist, built by prepack with declarations, its README and package.json, and no sources", () => {
    expect(packedFiles).toContain("README.md");
    expect(packedFiles).toContain("package.json");
    expect(packedFiles).toEqual(expect.arrayContaining(["dist/index.js", "dist/index.d.ts", "dist/client.js", "dist/generated.d.ts"]));
    expect(packedFiles.filter((file) => !["README.md", "package.json"].includes(file) && !file.startsWith("dist/"))).toEqual([]);
    const manifest = JSON.parse(readFileSync(path.join(installed, "package.json"), "utf8"));
    expect(manifest.exports["."]).toMatchObject({ types: "./dist/index.d.ts", default: "./dist/index.js" });
    for (const subpath of SUBPATHS) {
      expect(manifest.exports[`./${subpath}`]).toMatchObject({ types: `./dist/${subpath}.d.ts`, default: `./dist/${subpath}.js` });
    }
    expect(manifest.dependencies).toEqual({ "graphql-request": expect.any(String) });
    expect(Object.keys(manifest.peerDependencies).sort()).toEqual(["graphql", ...Object.keys(OPTIONAL_PEERS)].sort());
    expect(Object.keys(manifest.peerDependenciesMeta).sort()).toEqual(Object.keys(OPTIONAL_PEERS).sort());
    for (const meta of Object.values(manifest.peerDependenciesMeta)) expect(meta).toEqual({ optional: true });
    for (const script of ["preinstall", "install", "postinstall", "prepare"]) expect(manifest.scripts?.[script], script).toBeUndefined();
  });

  it("installs graphql-request, graphql and their own dependencies, and nothing of the server", () => {
    const lock = JSON.parse(readFileSync(path.join(project, "package-lock.json"), "utf8")) as { packages: Record<string, LockEntry> };
    const allowed = closureOf(lock.packages, ["node_modules/graphql-request", "node_modules/graphql"]);
    const found = installedNames(path.join(project, "node_modules"))
      .filter((name) => name !== "@onceql/client")
      .sort();
    console.info(`client pack test: installed ${found.join(", ")}`);
    expect(found).toEqual(expect.arrayContaining(["graphql", "graphql-request"]));
    expect(found.filter((name) => !allowed.has(name))).toEqual([]);
    expect(found.filter((name) => SERVER_PACKAGES.test(name))).toEqual([]);
  });

  it("needs at runtime only graphql-request, graphql and node: builtins; each subpath adds only its client", () => {
    const dir = path.join(installed, "dist");
    const externalsOf = (entry: string) => {
      const external = new Set<string>();
      const pending = [entry];
      const seen = new Set<string>();
      while (pending.length > 0) {
        const file = pending.pop()!;
        if (seen.has(file)) continue;
        seen.add(file);
        const source = readFileSync(path.join(dir, file), "utf8");
        for (const { fileName: specifier } of ts.preProcessFile(source, true, true).importedFiles) {
          if (!specifier.startsWith(".")) external.add(specifier);
          else {
            expect(existsSync(path.resolve(dir, path.dirname(file), specifier)), `${file} imports ${specifier}`).toBe(true);
            pending.push(path.join(path.dirname(file), specifier));
          }
        }
      }
      return [...external].filter((specifier) => !specifier.startsWith("node:")).sort();
    };
    expect(externalsOf("index.js")).toEqual(["graphql", "graphql-request"]);
    expect(externalsOf("apollo.js")).toEqual(["@apollo/client/errors", "@apollo/client/link", "rxjs"]);
    expect(externalsOf("urql.js")).toEqual(["@urql/core", "wonka"]);
    expect(externalsOf("fetch.js")).toEqual(["graphql"]);
    const all = readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((name) => /\.[cm]?js$/.test(name));
    expect(all.sort()).toEqual(
      ["apollo", "client", "fetch", "generated", "index", "keys", "onceql-error", "retry-policy", "urql"].map((name) => `${name}.js`),
    );
  });

  it("a plain .mjs run by node imports @onceql/client, and its second mutation with the same key is a replay", async () => {
    writeFileSync(path.join(project, "client.mjs"), CLIENT_MJS);
    const ran = await run(process.execPath, ["client.mjs"], { cwd: project, env });
    timings.mjs = ran.ms;
    const output = lastJson(ran) as {
      resolved: string;
      results: { replayed: boolean; typename: string; id: string }[];
      reused: { onceqlError: boolean; code: string; outcome: string };
    };
    expect(output.resolved).toBe(`file://${path.join(installed, "dist/index.js")}`);
    const [first, second] = output.results;
    expect(first).toEqual({ replayed: false, typename: "CreateIdentityPayload", id: expect.any(String) });
    expect(second).toEqual({ ...first, replayed: true });
    expect(output.reused).toEqual({ onceqlError: true, code: "IDEMPOTENCY_KEY_REUSED", outcome: "NOT_STORED" });
  });

  it("a .ts file (and the README's quick start) type-checks against the published declarations, and runs", async () => {
    writeFileSync(path.join(project, "client.ts"), CLIENT_TS);
    writeFileSync(path.join(project, "readme.ts"), readmeQuickStart());
    const check = await typeCheckAsConsumer(project, TSCONFIG);
    timings.tsc = check.ms;
    expect(check.stdout).toContain(path.join(installed, "dist/index.d.ts"));
    const ran = await run(process.execPath, [tsx, "client.ts"], { cwd: project, env });
    timings.ts = ran.ms;
    const output = lastJson(ran) as {
      results: { replayed: boolean; id: string }[];
      reused: { onceqlError: boolean; code: string; outcome: string };
    };
    const [first, second] = output.results;
    expect(first).toEqual({ replayed: false, id: expect.any(String) });
    expect(second).toEqual({ ...first, replayed: true });
    expect(output.reused).toEqual({ onceqlError: true, code: "IDEMPOTENCY_KEY_REUSED", outcome: "NOT_STORED" });
  });

  it("its subpaths, with their clients installed beside it, import and run from the tarball, and their README sections type-check", async () => {
    const peers = Object.keys(OPTIONAL_PEERS).map((name) => `${name}@${versionInRoot(name)}`);
    const installedPeers = await installInto(
      peersProject,
      "onceql-client-peers",
      [tarball, `graphql@${versionInRoot("graphql")}`, ...peers],
      150_000,
    );
    timings.installPeers = installedPeers.ms;
    writeFileSync(path.join(peersProject, "subpaths.mjs"), SUBPATHS_MJS);
    const ran = await run(process.execPath, ["subpaths.mjs"], { cwd: peersProject, env });
    const output = lastJson(ran) as { resolved: string[]; keys: string[]; status: string };
    const dist = path.join(peersProject, "node_modules/@onceql/client/dist");
    expect(output.resolved).toEqual(SUBPATHS.map((subpath) => `file://${path.join(dist, `${subpath}.js`)}`));
    expect(output.keys).toEqual([
      expect.stringMatching(/^[0-9a-f-]{36}$/),
      expect.stringMatching(/^[0-9a-f-]{36}$/),
      expect.stringMatching(/^[0-9a-f-]{36}$/),
    ]);
    expect(output.status).toBe("EXECUTED");

    const readme = readFileSync(path.join(peersProject, "node_modules/@onceql/client/README.md"), "utf8");
    const files = (["Apollo Client 4", "urql 5", "Relay, graphql-request"] as const).map((heading, i) => {
      const block = new RegExp(`### ${heading}[\\s\\S]*?\`\`\`ts\\n([\\s\\S]*?)\`\`\``).exec(readme)?.[1];
      expect(block, `README.md has a \`\`\`ts block under ### ${heading}`).toBeDefined();
      const file = `readme-${SUBPATHS[i]}.ts`;
      writeFileSync(path.join(peersProject, file), `${block}\nexport {};\n`);
      return file;
    });
    // Two of the clients' own declarations fail a strict, skipLibCheck-false check by themselves
    // (Apollo's dependency @wry/caches imports without extensions under NodeNext; relay-runtime 21
    // gives Record<T> two arguments): their errors are tolerated, every other file's fail the test.
    const check = await typeCheckAsConsumer(peersProject, { compilerOptions: { lib: ["ES2022", "DOM"], types: [] }, files }).catch(
      (error: Error) => ({ stdout: error.message }),
    );
    const errors = check.stdout.split("\n").filter((line) => /error TS\d+/.test(line));
    expect(errors.filter((line) => !/^node_modules\/(@wry\/caches|relay-runtime)\//.test(line))).toEqual([]);
    for (const subpath of SUBPATHS) expect(check.stdout).toContain(path.join(dist, `${subpath}.d.ts`));
  });
});
