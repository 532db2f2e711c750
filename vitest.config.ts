import { createRequire } from "node:module";
import { defaultServerConditions } from "vite";
import { defineConfig } from "vitest/config";

const require = createRequire(import.meta.url);

export default defineConfig({
  // The workspace packages are imported by name, from their TypeScript sources (their "onceql-source"
  // export): what an adopter installs is the same code built to JavaScript (see packages/*/package.json).
  // These conditions are also given to Node (--conditions) for what it loads itself, node_modules:
  // without "module", a bundlers' condition plain Node never sets, under which require() of
  // @opentelemetry/api 1.9 (by prom-client) gets an ESM copy Node cannot load.
  ssr: { resolve: { conditions: ["onceql-source", ...defaultServerConditions.filter((condition) => condition !== "module")] } },
  resolve: {
    conditions: ["onceql-source", ...defaultServerConditions],
    // graphql 16 ships CommonJS and ESM copies; Node (and so yoga and Pothos) loads the CommonJS
    // one, Vite would pick the ESM one for our sources. Two copies break `instanceof GraphQLError`.
    alias: [{ find: /^graphql$/, replacement: require.resolve("graphql") }],
  },
  test: {
    include: ["test/**/*.test.ts", "packages/*/tests/**/*.test.ts"],
    globalSetup: ["test/helpers/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
    reporters: ["default", "./test/helpers/summary-reporter.ts"],
  },
});
