import { spawn } from "node:child_process";
import { once } from "node:events";
import { cpSync, existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "vitest";

/**
 * The environment without what npm hands to `npm test`'s script (npm_package_*, npm_lifecycle_*,
 * npm_config_*, which a nested npm would read as its settings), so that the commands below run as
 * in a fresh shell, and without NODE_OPTIONS, so that `node` is plain Node. The cache, registry and
 * proxy settings stay.
 */
const KEPT_NPM = /^npm_config_(cache|userconfig|globalconfig|cafile|registry|proxy|https_proxy|noproxy|strict_ssl)$/i;
export const baseEnv: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !(/^npm_/i.test(name) && !KEPT_NPM.test(name)) && name !== "NODE_OPTIONS"),
);

export interface Ran {
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command as in a fresh shell; if it fails, the error says which and carries all it printed. */
export async function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<Ran> {
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

const repo = path.resolve(import.meta.dirname, "../..");

/** A package's version as the root's lockfile installed it. */
export function versionInRoot(name: string): string {
  return JSON.parse(readFileSync(path.join(repo, "node_modules", name, "package.json"), "utf8")).version as string;
}

/**
 * `npm pack` of a workspace package, run in `stage`: a copy of its `entries` (no dist) with the
 * repository's node_modules linked in, so that its prepack builds there and not in the checkout,
 * which other test files are reading. The tarball lands in `packs`, alone.
 */
export async function packStaged(options: { packageDir: string; entries: string[]; stage: string; packs: string }) {
  const { packageDir, entries, stage, packs } = options;
  for (const entry of entries) cpSync(path.join(packageDir, entry), path.join(stage, entry), { recursive: true });
  expect(existsSync(path.join(stage, "dist"))).toBe(false);
  symlinkSync(path.join(repo, "node_modules"), path.join(stage, "node_modules"), "dir");
  const pack = await run("npm", ["pack", "--json", "--pack-destination", packs], { cwd: stage });
  const [packed] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf("["))) as { filename: string; files: { path: string }[] }[];
  const tarballs = readdirSync(packs).filter((name) => name.endsWith(".tgz"));
  expect(tarballs, pack.stdout).toEqual([packed!.filename]);
  return { tarball: path.join(packs, tarballs[0]!), files: packed!.files, ms: pack.ms };
}

/** An empty project named `name` in `project`, with `specs` (the tarball and what it needs) installed as a user would. */
export async function installInto(project: string, name: string, specs: string[], timeoutMs: number): Promise<Ran> {
  writeFileSync(path.join(project, "package.json"), `${JSON.stringify({ name, private: true, type: "module" }, null, 2)}\n`);
  return run("npm", ["install", ...specs, "--no-audit", "--no-fund", "--prefer-offline", "--foreground-scripts"], {
    cwd: project,
    timeoutMs,
  });
}

/** Every package directory under a node_modules, nested ones included, by name. */
export function installedNames(nodeModules: string): string[] {
  const names: string[] = [];
  for (const entry of readdirSync(nodeModules, { withFileTypes: true })) {
    if (entry.name.startsWith(".") || !entry.isDirectory()) continue;
    const dirs = entry.name.startsWith("@")
      ? readdirSync(path.join(nodeModules, entry.name)).map((scoped) => `${entry.name}/${scoped}`)
      : [entry.name];
    for (const name of dirs) {
      names.push(name);
      const nested = path.join(nodeModules, name, "node_modules");
      if (existsSync(nested)) names.push(...installedNames(nested));
    }
  }
  return names;
}

/**
 * Type-checks `files` in `project` as a user's project would check an installed package: strict,
 * with every published declaration checked too (skipLibCheck false), under `compilerOptions`
 * besides (lib, types, exceptions). tsc lists the files it read, for a test to see the package's.
 */
export async function typeCheckAsConsumer(
  project: string,
  options: { compilerOptions: Record<string, unknown>; files: string[] },
): Promise<Ran> {
  const tsconfig = {
    compilerOptions: {
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      ...options.compilerOptions,
    },
    files: options.files,
  };
  writeFileSync(path.join(project, "tsconfig.json"), `${JSON.stringify(tsconfig, null, 2)}\n`);
  return run(process.execPath, [path.join(repo, "node_modules/typescript/bin/tsc"), "-p", ".", "--listFiles"], { cwd: project });
}

/** The text of a README's `## heading` section, up to the next `## ` heading. */
export function readmeSection(readme: string, heading: string): string {
  const start = readme.indexOf(`\n## ${heading}\n`);
  expect(start, `README.md has a "## ${heading}" section`).toBeGreaterThanOrEqual(0);
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

/** The fenced ```lang blocks of a piece of Markdown, in order. */
export function codeBlocks(markdown: string, lang: string): string[] {
  return [...markdown.matchAll(new RegExp(`^\`\`\`${lang}\\n([\\s\\S]*?)^\`\`\`$`, "gm"))].map((match) => match[1]!);
}
