import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlDriverAdapter,
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
export async function withSchemaEngine<T>(
  schemaText: string,
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
  work: (engine: bg.SchemaEngine) => Promise<T>,
): Promise<T> {
  wasmReady ??= instantiate();
  await wasmReady;
  // The engine never closes the connections it opens, and it migrates under a session-level
  // advisory lock: left open, they would keep every other server from starting.
  const opened: SqlDriverAdapter[] = [];
  const tracked: SqlMigrationAwareDriverAdapterFactory = {
    provider: adapterFactory.provider,
    adapterName: adapterFactory.adapterName,
    connect: async () => remember(await adapterFactory.connect()),
    connectToShadowDb: async () => remember(await adapterFactory.connectToShadowDb()),
  };
  const remember = (adapter: SqlDriverAdapter) => {
    opened.push(adapter);
    return adapter;
  };
  const engine = await bg.SchemaEngine.new(
    { datamodels: [["schema.prisma", schemaText]] },
    () => {},
    bindMigrationAwareSqlAdapterFactory(tracked),
  );
  try {
    return await work(engine);
  } finally {
    engine.free();
    await Promise.all(opened.map((adapter) => adapter.dispose().catch(() => {})));
  }
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
