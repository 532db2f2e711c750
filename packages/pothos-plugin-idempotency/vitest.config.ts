import { createRequire } from "node:module";
import { defaultServerConditions } from "vite";
import { defineConfig } from "vitest/config";

const require = createRequire(import.meta.url);

// The package's own suite (`npm test` here): the plugin imported by name from its TypeScript
// sources (the "onceql-source" export), as the repository's root config does. The root `npm test`
// runs these tests too, under the root config.
export default defineConfig({
  ssr: { resolve: { conditions: ["onceql-source", ...defaultServerConditions] } },
  resolve: {
    conditions: ["onceql-source", ...defaultServerConditions],
    // One copy of graphql (its CommonJS one, which Node gives yoga and Pothos): two break `instanceof GraphQLError`.
    alias: [{ find: /^graphql$/, replacement: require.resolve("graphql") }],
  },
  test: {
    include: ["tests/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
  },
});
