// The app's JavaScript (`npm run build`, after tsc has written the declarations): esbuild bundles
// each entry point with what it imports into dist/, the code they share in dist/chunks/. A start
// then reads a few files instead of about 1,100 modules, which is most of what a start costs
// (see README, Build). The workspace packages are bundled from their sources (their onceql-source
// export), with the one copy of Pothos and graphql they share with the app. Left out of the bundle,
// loaded from node_modules as they are:
// - PGlite and Prisma's schema engine and client runtime, which load their WebAssembly and data
//   files from beside their own modules;
// - pg-native, an optional dependency of pg that is not installed;
// - pg and OpenTelemetry, loaded only when traces are exported (src/tracing/sdk.ts), whose
//   instrumentations hook Node's module loader and patch what they instrument (pg, node:http) as it
//   loads from there.
import { rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export const external = [
  "@electric-sql/pglite",
  "@prisma/schema-engine-wasm",
  "@prisma/client",
  "pg-native",
  // Patched by OpenTelemetry's instrumentations as they load (src/tracing/sdk.ts): one copy, from node_modules.
  "pg",
  "@opentelemetry/*",
];

/**
 * Bundles `entryPoints` ({ in: a path from the repository's root, out: a name in `outdir` }) into
 * `outdir`; a `library` leaves every package to node_modules.
 */
export async function bundle(entryPoints, outdir, options = {}) {
  // Chunks are named by their hash: the last build's would pile up.
  const chunks = options.chunks ?? "chunks";
  rmSync(path.join(root, outdir, chunks), { recursive: true, force: true });
  await build({
    absWorkingDir: root,
    entryPoints,
    outdir: path.join(root, outdir),
    bundle: true,
    splitting: true,
    chunkNames: `${chunks}/[name]-[hash]`,
    format: "esm",
    platform: "node",
    target: "node20",
    // The commands bundle the workspace packages from their sources (their onceql-source export)
    // with the one copy of Pothos and graphql they share with the app; the library leaves them all
    // to node_modules, as a library does.
    ...(options.library ? { packages: "external" } : { external, conditions: ["onceql-source"] }),
    // CommonJS dependencies (graphql, pino, ...) call require() for Node's own modules.
    banner: {
      js: 'import { createRequire as __onceqlCreateRequire } from "node:module"; const require = __onceqlCreateRequire(import.meta.url);',
    },
    sourcemap: "linked",
    logLevel: "warning",
  });
}

/**
 * The commands, each to its own file in dist/, the code they share in dist/chunks/. dist/server.js is
 * src/main.ts: a module bundled with others cannot tell whether it is the entry point, so the
 * server's command lives apart from src/server.ts, which index.ts, the bench and the tests import.
 */
export const commands = [
  { in: "src/main.ts", out: "server" },
  { in: "src/cli.ts", out: "cli" },
  { in: "src/issuer-simulator/main.ts", out: "issuer-simulator/main" },
];

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await bundle(commands, "dist");
  // The library (the package's "." export) on its own, so that no command's code is in a chunk it
  // imports, and with every dependency left to node_modules, as a library's are: an application that
  // imports graphql itself must meet the same copy of it (instanceof GraphQLError).
  await bundle([{ in: "src/index.ts", out: "index" }], "dist", { chunks: "chunks/index", library: true });
}
