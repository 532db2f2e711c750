import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { openDatabase } from "../../src/db/database.ts";
import { spawnEntry } from "../helpers/processes.ts";

const root = mkdtempSync(path.join(tmpdir(), "onceql-workspace-create-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** `npm run cli -- workspace create <name>` on an embedded database in `dataDir`: its output and exit code. */
async function create(name: string, dataDir: string): Promise<{ code: number | null; output: string }> {
  const cli = spawnEntry("src/cli.ts", ["workspace", "create", name], { ONCEQL_DATA_DIR: dataDir });
  const code = await cli.exited;
  return { code, output: cli.output() };
}

it.each([
  ["empty", "", "onceql: a workspace name must be 1–200 characters long, got 0"],
  ["only spaces", "   ", "onceql: a workspace name must not be only whitespace"],
  ["only a tab and a newline", "\t\n", "onceql: a workspace name must not be only whitespace"],
  ["201 characters", "w".repeat(201), "onceql: a workspace name must be 1–200 characters long, got 201"],
])("refuses a name that is %s: says why, exit 1, and opens no database", async (label, name, message) => {
  const dataDir = path.join(root, label.replaceAll(" ", "-"));
  const { code, output } = await create(name, dataDir);
  expect(output.trim()).toBe(message);
  expect(code).toBe(1);
  expect(existsSync(dataDir)).toBe(false);
});

it("creates a workspace of 200 characters (emoji count as one), its token the last line", async () => {
  const dataDir = path.join(root, "valid");
  const name = "😀".repeat(200);
  const { code, output } = await create(name, dataDir);
  expect(code).toBe(0);
  expect(output.trim().split("\n").at(-1)).toMatch(/^oq_ws_\S+$/);
  const db = await openDatabase({ dataDir });
  try {
    expect((await db.prisma.workspace.findMany()).map((workspace) => workspace.name)).toEqual([name]);
  } finally {
    await db.close();
  }
});
