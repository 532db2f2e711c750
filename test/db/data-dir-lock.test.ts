import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { entryArgs } from "../../scripts/fleet.ts";
import { DataDirInUseError, HOLDER_WAIT_MS, lockDataDir } from "../../src/db/data-dir-lock.ts";
import { spawnEntry, startServerProcess } from "../helpers/processes.ts";

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

  it("is refused while its holder runs, after waiting for it, naming it, and free once released", async () => {
    const unlock = await lockDataDir(dataDir);
    const started = Date.now();
    await expect(lockDataDir(dataDir, { waitMs: 500 })).rejects.toThrow(DataDirInUseError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    await expect(lockDataDir(dataDir, { waitMs: 0 })).rejects.toThrow(new RegExp(`pid ${process.pid}`));
    await unlock();
    const again = await lockDataDir(dataDir);
    await again();
  });

  it("is taken from a server killed with its process group (kill -9 -PGID) while it is a zombie not yet reaped", async () => {
    // The server's parent is a shell turned into `sleep`, which never reaps a child: the server,
    // killed, stays a zombie for as long as the test likes (as under a PID 1 that reaps nothing).
    // setsid gives the server a process group of its own, as npm start in a terminal has.
    const node = [process.execPath, ...entryArgs("src/server.ts")].map((arg) => `'${arg}'`).join(" ");
    const parent = spawn("sh", ["-c", `setsid ${node} & echo "server pid $!"; exec sleep 600`], {
      env: { ...process.env, ...env, LOG_LEVEL: "warn", PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    parent.stdout!.on("data", (chunk) => (output += chunk));
    parent.stderr!.on("data", (chunk) => (output += chunk));
    try {
      await until(
        () => /GraphQL (?:and GraphiQL )?at http/.test(output),
        60_000,
        () => output,
      );
      const pid = Number(/server pid (\d+)/.exec(output)![1]);
      process.kill(-pid, "SIGKILL");
      await until(
        () => stateOf(pid) === "Z",
        10_000,
        () => `state ${stateOf(pid)}`,
      );

      const restarted = await startServerProcess(env);
      expect(stateOf(pid)).toBe("Z");
      expect(await restarted.stop()).toBe(0);
    } finally {
      const pid = Number(/server pid (\d+)/.exec(output)?.[1]);
      if (pid && stateOf(pid) !== "Z") process.kill(pid, "SIGKILL");
      parent.kill("SIGKILL");
    }
  }, 120_000);

  it("waits for a holder that is letting go, instead of refusing at once", async () => {
    const holder = spawnEntry("test/helpers/lock-holder.ts", [dataDir, "1500"], {});
    try {
      await until(
        () => holder.output().includes("locked"),
        30_000,
        () => holder.output(),
      );
      holder.child.kill("SIGTERM");
      const started = Date.now();
      const unlock = await lockDataDir(dataDir);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
      expect(Date.now() - started).toBeLessThan(HOLDER_WAIT_MS);
      await unlock();
      expect(await holder.exited).toBe(0);
    } finally {
      if (holder.child.exitCode === null) holder.child.kill("SIGKILL");
    }
  }, 60_000);
});

/** The state letter of /proc/<pid>/stat (R, S, Z...), or undefined once the process is gone. */
function stateOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return undefined;
  }
}

async function until(done: () => boolean, boundMs: number, say: () => string): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`not within ${boundMs} ms: ${say()}`);
    await sleep(50);
  }
}
