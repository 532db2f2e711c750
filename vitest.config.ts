import { createRequire } from "node:module";
import { defaultServerConditions } from "vite";
import { defineConfig } from "vitest/config";

const require = createRequire(import.meta.url);

export default defineConfig({
  // The workspace packages are imported by name, from their TypeScript sources (their "onceql-source"
  // export): what an adopter installs is the same code built to JavaScript (see packages/*/package.json).
  ssr: { resolve: { conditions: ["onceql-source", ...defaultServerConditions] } },
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
