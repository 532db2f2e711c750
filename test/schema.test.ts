import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { printedSchema, schemaFile } from "../src/schema/print.ts";

it("schema.graphql is the schema the server serves (run npm run schema:print after a change)", () => {
  expect(readFileSync(schemaFile, "utf8")).toBe(printedSchema());
});
