// What the benchmark's phases share: the server under test in its own process, the load generator
// in another (bench/load.ts, over IPC), and checks that a phase did what it is named for.
import { type ChildProcess, fork, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { bundle } from "../scripts/bundle.mjs";
import { ensureBuilt } from "../scripts/ensure-built.mjs";
import type { Phase, PhaseResult } from "./load.ts";

const here = import.meta.dirname;
const root = path.resolve(here, "..");

export interface BenchServer {
  url: string;
  token: string;
  pid: number;
  child: ChildProcess;
}

/**
 * The benchmark's own servers as JavaScript in dist/bench/, bundled as `npm run build` bundles the
 * app (scripts/bundle.mjs), so that what is measured is the app as npm start runs it, and the bare
 * reference server runs the same way (bundled, plain node, no loader). Returns the path of `entry`'s.
 */
export async function compiledBenchEntry(entry: string): Promise<string> {
  ensureBuilt();
  bundled ??= bundle(
    ["server", "bare-server"].map((name) => ({ in: `bench/${name}.ts`, out: name })),
    "dist/bench",
  );
  await bundled;
  return path.join(root, "dist/bench", entry.replace(/\.ts$/, ".js"));
}
let bundled: Promise<void> | undefined;

/** Starts the benchmark's server (bench/server.ts), or `entry`: another server that prints the same JSON line. */
export async function startBenchServer(
  env: Record<string, string>,
  options: { entry?: string; nodeArgs?: string[] } = {},
): Promise<BenchServer> {
  const args = ["--expose-gc", ...(options.nodeArgs ?? []), await compiledBenchEntry(options.entry ?? "server.ts")];
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, PORT: "0", LOG_LEVEL: "silent", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let output = "";
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (chunk) => {
      output += chunk;
      const line = output.split("\n").find((l) => l.startsWith("{"));
      if (line) resolve({ ...JSON.parse(line), child });
    });
    child.on("exit", (code) => reject(new Error(`bench server exited with ${code}: ${output}`)));
  });
}

export async function stopBenchServer(server: BenchServer): Promise<void> {
  if (server.child.exitCode !== null) return;
  const exited = new Promise((resolve) => server.child.once("exit", resolve));
  server.child.kill("SIGTERM");
  await exited;
}

let loader: ChildProcess | undefined;

/** Runs one phase of load from the load generator's process. */
export function load(phase: Phase): Promise<PhaseResult> {
  loader ??= fork(path.join(here, "load.ts"), {
    execArgv: ["--conditions=onceql-source", "--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const current = loader;
  return new Promise((resolve, reject) => {
    current.once("message", (message: { ok: boolean; result?: PhaseResult; error?: string }) =>
      message.ok ? resolve(message.result!) : reject(new Error(message.error)),
    );
    current.send(phase);
  });
}

/** The load generator's process id, once it has started. */
export function loaderPid(): number | undefined {
  return loader?.pid;
}

export function stopLoader(): void {
  loader?.kill();
  loader = undefined;
}

/** Resident memory after a full garbage collection in the server. */
export async function rssMb(pid: number): Promise<number> {
  process.kill(pid, "SIGUSR2");
  await sleep(1_000);
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;
}

/** One of the server's own idempotency counters for a mutation. */
export async function counter(server: BenchServer, mutation: string, name: "executions" | "replays"): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Number(new RegExp(`onceql_idempotency_${name}_total\\{mutation="${mutation}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
}

/**
 * Runs a phase and checks that it did what it is named for: by the server's own counters of
 * `mutation`, and by every answer holding `phase.expectText` (a 200 can carry an error).
 */
export async function checked(
  server: BenchServer,
  mutation: string,
  phase: Phase,
  expect: { executions?: number; replays?: number },
): Promise<PhaseResult> {
  await settled(server, mutation);
  const before = { executions: await counter(server, mutation, "executions"), replays: await counter(server, mutation, "replays") };
  const result = await load(phase);
  for (const name of ["executions", "replays"] as const) {
    const delta = (await counter(server, mutation, name)) - before[name];
    const wanted = expect[name] ?? 0;
    if (delta !== wanted)
      throw new Error(
        `a phase meant ${wanted} ${name} of ${mutation} and made ${delta}: the requests are not doing what they are named for`,
      );
  }
  requireClean(result);
  return result;
}

/**
 * Waits for requests a timed phase left in flight (the load generator stops sending at its
 * deadline; the server still finishes what it had): until the counter holds still.
 */
async function settled(server: BenchServer, mutation: string): Promise<void> {
  let last = await counter(server, mutation, "executions");
  for (;;) {
    await sleep(300);
    const now = await counter(server, mutation, "executions");
    if (now === last) return;
    last = now;
  }
}

/** A phase whose answers were all what it meant them to be. */
export function requireClean(result: PhaseResult): PhaseResult {
  if (result.non2xx || result.errors || result.mismatches) {
    throw new Error(`${result.non2xx} non-2xx responses, ${result.errors} errors and ${result.mismatches} unexpected answers in a phase`);
  }
  return result;
}
