import { readdirSync } from "node:fs";
import path from "node:path";
import madge from "madge";
import { describe, expect, it } from "vitest";

const repo = path.resolve(import.meta.dirname, "../..");

/**
 * The app's source and the packages import each other in no circle (type imports included), and a
 * package imports nothing of the app: it is what an adopter installs, alone.
 */
describe("the import graph", () => {
  it("has no cycle in src and packages, and the packages import nothing outside themselves", async () => {
    const packages = readdirSync(path.join(repo, "packages")).map((name) => `packages/${name}/src`);
    const graph = await madge(["src", ...packages], {
      baseDir: repo,
      fileExtensions: ["ts"],
      tsConfig: path.join(repo, "tsconfig.json"),
      excludeRegExp: [/^src\/generated\//],
    });
    expect(graph.circular()).toEqual([]);
    const outside = Object.entries(graph.obj()).flatMap(([file, imports]) => {
      const own = /^packages\/[^/]+\//.exec(file)?.[0];
      return own ? imports.filter((imported) => !imported.startsWith(own)).map((imported) => `${file} -> ${imported}`) : [];
    });
    expect(outside).toEqual([]);
    // What madge could not follow is the app importing the packages by name, nothing else.
    expect(graph.warnings().skipped.filter((name) => !name.startsWith("@onceql/"))).toEqual([]);
    expect(Object.keys(graph.obj()).length).toBeGreaterThan(100);
  });
});
