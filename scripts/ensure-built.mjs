// Plain JavaScript, so it runs before anything is built and with no TypeScript tooling:
// `node scripts/ensure-built.mjs` runs `npm run build` when dist/ is missing or older than what it is
// built from, and does nothing otherwise. npm start runs it first (prestart); so do the test suite's
// global setup and scripts/fleet.ts `spawnEntry`, so that a stale dist/ is never what runs.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** Written by `npm run build` once the workspace packages and the app are all built. */
export const stampFile = path.join(root, "dist/.built");

/**
 * What dist/ (and packages/*\/dist) are built from: a change to any of these makes the build stale.
 * The dependencies are bundled too, so an install that changes node_modules does
 * (node_modules/.package-lock.json is rewritten by every npm install).
 */
function sources() {
  const packages = readdirSync(path.join(root, "packages")).map((name) => path.join("packages", name));
  return [
    "src",
    "package.json",
    "tsconfig.json",
    "tsconfig.build.json",
    "scripts/bundle.mjs",
    "node_modules/.package-lock.json",
    ...packages.flatMap((dir) => [path.join(dir, "src"), path.join(dir, "package.json"), path.join(dir, "tsconfig.build.json")]),
  ].map((entry) => path.join(root, entry));
}

function newestMtime(file) {
  if (!existsSync(file)) return 0;
  const stat = statSync(file);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(file)) newest = Math.max(newest, newestMtime(path.join(file, entry)));
  return newest;
}

/** Why dist/ cannot be run as it is, or undefined when it is newer than everything it is built from. */
export function staleness() {
  if (!existsSync(stampFile)) return "dist/ is not built";
  const built = statSync(stampFile).mtimeMs;
  const changed = sources().find((source) => newestMtime(source) > built);
  return changed ? `${path.relative(root, changed)} changed since dist/ was built` : undefined;
}

/** Builds when stale; what the build prints goes to stderr, so a command's own output stays clean. */
export function ensureBuilt() {
  const reason = staleness();
  if (!reason) return;
  process.stderr.write(`onceql: ${reason}: npm run build\n`);
  execFileSync(process.platform === "win32" ? "npm.cmd" : "npm", ["run", "--silent", "build"], {
    cwd: root,
    stdio: ["ignore", process.stderr, process.stderr],
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) ensureBuilt();
