import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlMigrationAwareDriverAdapterFactory,
} from "@prisma/driver-adapter-utils";
import * as bg from "@prisma/schema-engine-wasm/schema_engine_bg";

const require = createRequire(import.meta.url);
let wasmReady: Promise<void> | undefined;

/**
 * Prisma's schema engine compiled to WebAssembly: what `prisma migrate` runs, without the native
 * binary these machines cannot download. Its package entry imports the .wasm as an ES module,
 * which Node 20 refuses, so it is instantiated here by hand.
 */
export async function openSchemaEngine(
  schemaText: string,
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
): Promise<bg.SchemaEngine> {
  wasmReady ??= instantiate();
  await wasmReady;
  return bg.SchemaEngine.new(
    { datamodels: [["schema.prisma", schemaText]] },
    () => {},
    bindMigrationAwareSqlAdapterFactory(adapterFactory),
  );
}

async function instantiate(): Promise<void> {
  const wasmPath = require.resolve("@prisma/schema-engine-wasm/schema_engine_bg").replace(/\.js$/, ".wasm");
  const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), {
    "./schema_engine_bg.js": bg as unknown as WebAssembly.ModuleImports,
  });
  const exports = instance.exports as WebAssembly.Exports & { __wbindgen_start(): void };
  bg.__wbg_set_wasm(exports);
  exports.__wbindgen_start();
}
