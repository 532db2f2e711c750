import { readFile } from "node:fs/promises";
import { DEFAULT_TABLES, schemaSql } from "@onceql/pothos-plugin-idempotency";
import { expect, test } from "vitest";

test("sql/schema.sql is what ensureSchema() runs: schemaSql() after its first comment line", async () => {
  const shipped = await readFile(new URL("../sql/schema.sql", import.meta.url), "utf8");
  const [first, ...rest] = shipped.split("\n");
  expect(first).toMatch(/^-- /);
  expect(rest.join("\n")).toBe(schemaSql());
  expect(rest.join("\n")).toBe(schemaSql(DEFAULT_TABLES));
});

test("the shipped SQL is exported as ./schema.sql", async () => {
  const manifest = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8"));
  expect(manifest.exports["./schema.sql"]).toBe("./sql/schema.sql");
  expect(manifest.files).toContain("sql");
});
