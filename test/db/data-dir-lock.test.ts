import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { DataDirInUseError, lockDataDir } from "../../src/db/data-dir-lock.ts";
import { startServerProcess } from "../helpers/processes.ts";

const folders: string[] = [];
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});
const newDataDir = () => {
  const folder = mkdtempSync(path.join(tmpdir(), "onceql-lock-"));
  folders.push(folder);
  return folder;
};

// One folder for the whole file: a first start on a new folder spends most of its time migrating.
const dataDir = newDataDir();
const env = { ONCEQL_DATA_DIR: dataDir };

describe("the embedded database's lock", () => {
  it("is taken at once after its holder was killed with SIGKILL", async () => {
    const server = await startServerProcess(env);
    server.child.kill("SIGKILL");
    await server.exited;
    // The old lock went stale only 10 s after its holder's last refresh: until then, refused.
    const unlock = await lockDataDir(dataDir);
    await unlock();
  }, 90_000);

  it("is released when Ctrl-C is pressed twice", async () => {
    const server = await startServerProcess(env);
    server.child.kill("SIGINT");
    await sleep(20);
    server.child.kill("SIGINT");
    expect(await server.exited).toBe(0);
    const unlock = await lockDataDir(dataDir);
    await unlock();
  }, 90_000);

  it("is refused while its holder runs, naming it, and free once released", async () => {
    const unlock = await lockDataDir(dataDir);
    await expect(lockDataDir(dataDir)).rejects.toThrow(DataDirInUseError);
    await expect(lockDataDir(dataDir)).rejects.toThrow(new RegExp(`pid ${process.pid}`));
    await unlock();
    const again = await lockDataDir(dataDir);
    await again();
  });
});
