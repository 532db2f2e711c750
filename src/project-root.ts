import { existsSync } from "node:fs";
import path from "node:path";

/**
 * The folder that holds prisma/ (the schema and the migrations): the nearest one above this module
 * that does. It is two folders up from src/db under tsx, one up from dist/'s bundle under node, and
 * the package's folder once installed: found, not counted.
 */
export const projectRoot = findProjectRoot(import.meta.dirname);

function findProjectRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "prisma/schema.prisma"))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no prisma/schema.prisma in any folder above ${from}`);
  }
}
